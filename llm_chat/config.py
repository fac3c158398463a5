"""Settings read from the environment and the project's ``.env`` file.

Nothing here runs at import, and reading settings never writes: the secrets file is generated
by :func:`ensure_secrets`, which the server's start-up and the CLI call (a ``reflex compile`` or
``reflex export`` imports the app and must not bake secrets into a build).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from llm_chat.secrets_file import FILE_NAME, create_secrets_file, read_secrets

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
# Which variable each generated secret stands in for (the file's keys are the field names).
SECRET_VARIABLES = {
    "jwt_secret": "LLM_CHAT_JWT_SECRET",
    "encryption_key": "LLM_CHAT_ENCRYPTION_KEY",
}

_SettingsT = TypeVar("_SettingsT", bound="StorageSettings")


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names the variable."""


class InsecureSecretError(SettingsError):
    """Raised when a configured secret is empty, short or well known."""


class MissingSecretsError(SettingsError):
    """A secret is neither configured nor generated yet (see :func:`ensure_secrets`)."""

    def __init__(self, path: Path, variable: str) -> None:
        super().__init__(
            f"{variable} is not set and {path} does not exist yet: start the server once"
            " (it generates the secrets) or set the variable."
        )
        self.path = path


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


def default_database_url(data_dir: Path) -> str:
    """The zero-config SQLite database inside the data directory."""
    return f"sqlite:///{data_dir / 'llm_chat.db'}"


def env_file() -> Path | None:
    """The ``.env`` file read under the environment: ``LLM_CHAT_ENV_FILE`` ('' for none), or
    ``.env`` in the project root."""
    value = os.environ.get("LLM_CHAT_ENV_FILE")
    if value is None:
        return PROJECT_ROOT / ".env"
    return Path(value) if value else None


def environment() -> dict[str, str]:
    """The process environment over the ``.env`` file, for variables read outside ``Settings``
    (provider keys, Reflex's)."""
    path = env_file()
    from_file = dotenv_values(path) if path is not None and path.is_file() else {}
    return {**{k: v for k, v in from_file.items() if v is not None}, **os.environ}


def _data_dir(value: object) -> Path:
    return Path(str(value) if value else PROJECT_ROOT / ".data").resolve()


class StorageSettings(BaseSettings):
    """Where the data lives: all that migrations need (no secrets)."""

    # Each field is read from exactly the variable named by its alias; the environment wins
    # over the .env file; other variables (provider keys, Reflex's) are ignored here.
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

    data_dir: Path = Field(default=PROJECT_ROOT / ".data", validation_alias="LLM_CHAT_DATA_DIR")
    database_url: str = Field(
        default="", validate_default=True, validation_alias="LLM_CHAT_DATABASE_URL"
    )

    @field_validator("data_dir", mode="before")
    @classmethod
    def _resolve_data_dir(cls, value: object) -> Path:
        return _data_dir(value)

    @field_validator("database_url")
    @classmethod
    def _default_to_sqlite(cls, value: str, info: ValidationInfo) -> str:
        return value or default_database_url(info.data.get("data_dir") or _data_dir(None))

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.database_url.startswith("sqlite")


class Settings(StorageSettings):
    """Runtime settings of the app."""

    # Set, or else read from the generated secrets file (the lowest-priority source).
    jwt_secret: str = Field(
        default="", validate_default=True, validation_alias="LLM_CHAT_JWT_SECRET"
    )
    encryption_key: str = Field(
        default="", validate_default=True, validation_alias="LLM_CHAT_ENCRYPTION_KEY"
    )
    # A day: tokens are revoked in the database on sign out, so the lifetime only bounds a
    # token nobody revoked (one copied from a browser left signed in). There is no refresh:
    # people sign in once a day.
    jwt_ttl_seconds: int = Field(
        default=24 * 3600, gt=0, validation_alias="LLM_CHAT_JWT_TTL_SECONDS"
    )
    # Sign-in attempts (services/sign_in_limits.py): failures of one account within the
    # window before it is locked for a while, and of one client address.
    signin_account_limit: int = Field(
        default=5, gt=0, validation_alias="LLM_CHAT_SIGNIN_ACCOUNT_LIMIT"
    )
    signin_address_limit: int = Field(
        default=30, gt=0, validation_alias="LLM_CHAT_SIGNIN_ADDRESS_LIMIT"
    )
    signin_window_seconds: int = Field(
        default=15 * 60, gt=0, validation_alias="LLM_CHAT_SIGNIN_WINDOW_SECONDS"
    )
    # Reverse proxies in front of the app that append the client's address to
    # X-Forwarded-For (0: none, the header is ignored: a client could forge it).
    trusted_proxy_hops: int = Field(default=0, ge=0, validation_alias="LLM_CHAT_TRUSTED_PROXY_HOPS")
    stream_batch_ms: float = Field(
        default=40, ge=0, allow_inf_nan=False, validation_alias="LLM_CHAT_STREAM_BATCH_MS"
    )
    stream_batch_max_ms: float = Field(
        default=300, ge=0, allow_inf_nan=False, validation_alias="LLM_CHAT_STREAM_BATCH_MAX_MS"
    )
    provider_timeout_seconds: float = Field(
        default=60, gt=0, allow_inf_nan=False, validation_alias="LLM_CHAT_PROVIDER_TIMEOUT"
    )
    # Replies one user may have streaming at once (all tabs, API clients and workers).
    max_streams_per_user: int = Field(
        default=4, ge=1, validation_alias="LLM_CHAT_MAX_STREAMS_PER_USER"
    )
    # Redis, shared by the workers (Reflex's own setting): counts that span them live there.
    redis_url: str = Field(default="", validation_alias="REFLEX_REDIS_URL")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then ``.env``, then the generated secrets file."""
        return init_settings, env_settings, dotenv_settings, _GeneratedSecrets(settings_cls)

    @field_validator("jwt_secret", "encryption_key")
    @classmethod
    def _refuse_weak_secrets(cls, value: str, info: ValidationInfo) -> str:
        return check_secret(SECRET_VARIABLES[str(info.field_name)], value)

    @model_validator(mode="after")
    def _batches_grow(self) -> Settings:
        if self.stream_batch_max_ms < self.stream_batch_ms:
            raise ValueError(
                f"LLM_CHAT_STREAM_BATCH_MAX_MS ({self.stream_batch_max_ms:g}) must be at least"
                f" LLM_CHAT_STREAM_BATCH_MS ({self.stream_batch_ms:g})"
            )
        return self

    @property
    def stream_batch_seconds(self) -> float:
        """The first interval between batches of a streamed reply."""
        return self.stream_batch_ms / 1000

    @property
    def stream_batch_max_seconds(self) -> float:
        """The interval batches grow to over the first seconds of a reply."""
        return self.stream_batch_max_ms / 1000


class _GeneratedSecrets(PydanticBaseSettingsSource):
    """The secrets file in the data directory, for each secret no other source sets."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        # The state of the sources before this one, keyed by variable name (the aliases).
        missing = [var for var in SECRET_VARIABLES.values() if var not in self.current_state]
        if not missing:
            return {}
        path = _data_dir(self.current_state.get("LLM_CHAT_DATA_DIR")) / FILE_NAME
        if not path.exists():
            raise MissingSecretsError(path, missing[0])
        try:
            stored = read_secrets(path)
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc
        return {var: stored[key] for key, var in SECRET_VARIABLES.items() if var in missing}


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])  # the variable; "" for a rule
        shown = "" if where in SECRET_VARIABLES.values() else f" (got {item['input']!r})"
        lines.append(f"  {where}: {item['msg']}{shown}" if where else f"  {item['msg']}")
    return "\n".join(lines)


def _load(settings_cls: type[_SettingsT]) -> _SettingsT:
    path = env_file()
    try:
        # BaseSettings takes `_env_file`; pyright sees only the fields' synthesized __init__.
        return settings_cls(_env_file=path)  # pyright: ignore[reportCallIssue]
    except ValidationError as exc:
        read = path is not None and path.is_file()
        source = f"the environment or {path}" if read else "the environment"
        raise SettingsError(f"Invalid settings in {source}:\n{_describe(exc)}") from None


def load_storage_settings() -> StorageSettings:
    """Where the data lives, without needing the secrets (for migrations).

    Raises:
        SettingsError: if a value is invalid (the message names the variable).
    """
    return _load(StorageSettings)


def load_settings() -> Settings:
    """Build settings from the environment and ``.env`` (see ``.env.example``).

    Raises:
        MissingSecretsError: if a secret is neither set nor generated yet.
        InsecureSecretError: if a configured secret is empty, short or well known.
        SettingsError: if another value is invalid (the message names the variable).
    """
    return _load(Settings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once (raises as :func:`load_settings`)."""
    return load_settings()


def ensure_secrets() -> Settings:
    """The settings, after generating the secrets file if a secret is neither set nor stored.

    Call it where a process starts to serve (the server's start-up, the CLI), never at import.

    Raises:
        SettingsError: as :func:`load_settings`, except for missing secrets.
    """
    try:
        return get_settings()
    except MissingSecretsError as missing:
        create_secrets_file(missing.path)
    return get_settings()
