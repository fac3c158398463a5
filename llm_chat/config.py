"""Settings read from the environment, with secrets generated on first run.

Nothing here runs at import: call :func:`get_settings`.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MIN_SECRET_LENGTH = 32
# Secrets copied from examples and tutorials; the app refuses to run with them.
WELL_KNOWN_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "secret-key",
        "your-secret-key",
        "supersecret",
        "please-change-this-to-a-long-random-string-of-48-chars",
        "replace-with-a-long-random-string",
    }
)
SECRETS_FILE_NAME = "secrets.json"


class InsecureSecretError(RuntimeError):
    """Raised when a configured secret is empty, short or well known."""


@dataclass(frozen=True)
class Settings:
    """Runtime settings of the app."""

    data_dir: Path
    database_url: str
    jwt_secret: str
    encryption_key: str
    jwt_ttl_seconds: int
    stream_batch_seconds: float
    stream_batch_max_seconds: float
    provider_timeout_seconds: float

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.database_url.startswith("sqlite")


def check_secret(name: str, value: str) -> str:
    """Return ``value`` if it is a usable secret, else raise.

    Raises:
        InsecureSecretError: if it is empty, shorter than 32 characters or well known.
    """
    if not value or not value.strip():
        raise InsecureSecretError(f"{name} is empty.")
    if value.strip().lower() in WELL_KNOWN_SECRETS or "change" in value.lower():
        raise InsecureSecretError(f"{name} is a well-known placeholder; set a random value.")
    if len(value) < MIN_SECRET_LENGTH:
        raise InsecureSecretError(
            f"{name} is {len(value)} characters long; use at least {MIN_SECRET_LENGTH}."
        )
    return value


def _load_or_create_secrets(data_dir: Path) -> dict[str, str]:
    """Read the generated secrets file, creating it (mode 0600) on first run."""
    path = data_dir / SECRETS_FILE_NAME
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    data_dir.mkdir(parents=True, exist_ok=True)
    generated = {
        "jwt_secret": secrets.token_urlsafe(48),
        "encryption_key": secrets.token_urlsafe(48),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(generated, handle)
    return generated


def _secret(env_name: str, key: str, data_dir: Path) -> str:
    value = os.environ.get(env_name)
    if value is None:
        value = _load_or_create_secrets(data_dir)[key]
    return check_secret(env_name, value)


def default_database_url(data_dir: Path) -> str:
    """The zero-config SQLite database inside the data directory."""
    return f"sqlite:///{data_dir / 'llm_chat.db'}"


def load_settings() -> Settings:
    """Build settings from the environment (see ``.env.example``)."""
    data_dir = Path(os.environ.get("LLM_CHAT_DATA_DIR", PROJECT_ROOT / ".data")).resolve()
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("LLM_CHAT_DATABASE_URL") or default_database_url(data_dir),
        jwt_secret=_secret("LLM_CHAT_JWT_SECRET", "jwt_secret", data_dir),
        encryption_key=_secret("LLM_CHAT_ENCRYPTION_KEY", "encryption_key", data_dir),
        jwt_ttl_seconds=int(os.environ.get("LLM_CHAT_JWT_TTL_SECONDS", 7 * 24 * 3600)),
        stream_batch_seconds=float(os.environ.get("LLM_CHAT_STREAM_BATCH_MS", 40)) / 1000,
        stream_batch_max_seconds=float(os.environ.get("LLM_CHAT_STREAM_BATCH_MAX_MS", 300)) / 1000,
        provider_timeout_seconds=float(os.environ.get("LLM_CHAT_PROVIDER_TIMEOUT", 60)),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
