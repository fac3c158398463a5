"""Settings: read from the environment over .env, secrets generated once at the first start (never
at import), kept private, and weak or malformed values refused with the variable's name."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_chat.config import (
    PROJECT_ROOT,
    InsecureSecretError,
    MissingSecretsError,
    SettingsError,
    check_secret,
    ensure_secrets,
    env_file,
    environment,
    get_settings,
    load_settings,
    load_storage_settings,
)

# Imports the app as `reflex compile`/`export` do, then starts its ASGI back end (the lifespan,
# as `reflex run` does before serving): prints whether each step left a secrets file.
_START_APP = """
import sys
from pathlib import Path
from starlette.testclient import TestClient
from llm_chat.llm_chat import app
secrets_file = Path(sys.argv[1]) / "secrets.json"
print("after import:", secrets_file.exists(), flush=True)
with TestClient(app()):
    print("after start:", secrets_file.exists(), flush=True)
"""


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """No settings cached from other tests, and none of this test's left for the next."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> Path:
    """A data directory of the test's own and no configured secrets: a fresh install."""
    monkeypatch.setenv("LLM_CHAT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LLM_CHAT_JWT_SECRET")
    monkeypatch.delenv("LLM_CHAT_ENCRYPTION_KEY")
    return tmp_path


def _start_app(data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Import and start the app in a process of its own, with no secrets but ``settings``."""
    env = dict(os.environ)  # with the tests' LLM_CHAT_ENV_FILE="": no developer's .env
    del env["LLM_CHAT_JWT_SECRET"], env["LLM_CHAT_ENCRYPTION_KEY"]
    env.update(
        LLM_CHAT_DATA_DIR=str(data_dir),
        LLM_CHAT_DATABASE_URL=f"sqlite:///{data_dir / 'app.db'}",
        REFLEX_STATES_WORKDIR=str(data_dir / "states"),
        __REFLEX_SKIP_COMPILE="true",
        **settings,
    )
    return subprocess.run(
        [sys.executable, "-c", _START_APP, str(data_dir)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_secrets_are_generated_once_in_a_private_file(no_secrets: Path) -> None:
    first = ensure_secrets()
    secrets_file = no_secrets / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert len(first.jwt_secret) >= 32
    assert first.jwt_secret != first.encryption_key
    get_settings.cache_clear()
    second = ensure_secrets()
    assert (second.jwt_secret, second.encryption_key) == (first.jwt_secret, first.encryption_key)
    assert [path.name for path in no_secrets.iterdir()] == ["secrets.json"]


def test_reading_settings_never_writes_the_secrets(no_secrets: Path) -> None:
    with pytest.raises(MissingSecretsError, match="LLM_CHAT_JWT_SECRET is not set"):
        load_settings()
    assert list(no_secrets.iterdir()) == []


def test_configured_secrets_need_no_file(no_secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_CHAT_JWT_SECRET", "j" * 40)
    monkeypatch.setenv("LLM_CHAT_ENCRYPTION_KEY", "e" * 40)
    assert ensure_secrets().jwt_secret == "j" * 40
    assert list(no_secrets.iterdir()) == []


def test_migrations_need_no_secrets(no_secrets: Path) -> None:
    assert load_storage_settings().database_url == f"sqlite:///{no_secrets / 'llm_chat.db'}"
    assert list(no_secrets.iterdir()) == []


def test_importing_the_app_writes_no_secrets_and_starting_it_does(tmp_path: Path) -> None:
    first = _start_app(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "after import: False" in first.stdout
    assert "after start: True" in first.stdout
    secrets_file = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    generated = secrets_file.read_text()
    second = _start_app(tmp_path)
    assert second.returncode == 0, second.stderr
    assert secrets_file.read_text() == generated


def test_app_refuses_to_start_with_a_weak_configured_secret_in_its_process(
    tmp_path: Path,
) -> None:
    started = _start_app(tmp_path, LLM_CHAT_JWT_SECRET="changeme")
    assert started.returncode != 0
    assert "after start" not in started.stdout
    assert "InsecureSecretError: LLM_CHAT_JWT_SECRET is a well-known placeholder" in started.stderr


def test_default_database_is_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CHAT_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.is_sqlite
    assert settings.database_url == f"sqlite:///{tmp_path / 'llm_chat.db'}"


def test_dotenv_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"LLM_CHAT_DATA_DIR={tmp_path / 'from-dotenv'}\n"
        "LLM_CHAT_PROVIDER_TIMEOUT=5\n"
        "LLM_CHAT_STREAM_BATCH_MS=25\n"
        "LLM_CHAT_JWT_TTL_SECONDS=10\n"
        "OPENAI_API_KEY=sk-from-dotenv\n"
        "DEEPSEEK_API_KEY=sk-from-dotenv\n"
    )
    monkeypatch.setenv("LLM_CHAT_ENV_FILE", str(dotenv))
    monkeypatch.delenv("LLM_CHAT_DATA_DIR")
    monkeypatch.setenv("LLM_CHAT_JWT_TTL_SECONDS", "20")
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-from-env")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "from-dotenv"
    assert settings.provider_timeout_seconds == 5
    assert settings.stream_batch_seconds == pytest.approx(0.025)
    assert settings.jwt_ttl_seconds == 20
    assert environment()["OPENAI_API_KEY"] == "sk-from-dotenv"
    assert environment()["DEEPSEEK_API_KEY"] == "sk-from-env"


def test_the_dotenv_file_is_the_project_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_CHAT_ENV_FILE")
    assert env_file() == PROJECT_ROOT / ".env"
    monkeypatch.setenv("LLM_CHAT_ENV_FILE", "")
    assert env_file() is None


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("LLM_CHAT_PROVIDER_TIMEOUT", "soon", "valid number"),
        ("LLM_CHAT_PROVIDER_TIMEOUT", "0", "greater than 0"),
        ("LLM_CHAT_PROVIDER_TIMEOUT", "nan", "finite number"),
        ("LLM_CHAT_JWT_TTL_SECONDS", "1.5", "valid integer"),
        ("LLM_CHAT_STREAM_BATCH_MS", "-1", "greater than or equal to 0"),
        ("LLM_CHAT_STREAM_BATCH_MAX_MS", "10", "must be at least LLM_CHAT_STREAM_BATCH_MS"),
    ],
)
def test_bad_values_are_refused_with_the_variables_name(
    variable: str, value: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=reason) as refused:
        load_settings()
    assert variable in str(refused.value)


def test_a_bad_value_in_dotenv_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("LLM_CHAT_JWT_TTL_SECONDS=a week\n")
    monkeypatch.setenv("LLM_CHAT_ENV_FILE", str(dotenv))
    with pytest.raises(SettingsError, match=f"or {dotenv}:\n  LLM_CHAT_JWT_TTL_SECONDS"):
        load_settings()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("short-secret", "characters long"),
        ("changeme", "placeholder"),
        ("please-change-this-to-a-long-random-string-of-48-chars", "placeholder"),
    ],
)
def test_weak_secrets_are_refused(value: str, reason: str) -> None:
    with pytest.raises(InsecureSecretError, match=reason):
        check_secret("LLM_CHAT_JWT_SECRET", value)


@pytest.mark.parametrize("value", ["secret", ""])
def test_app_refuses_to_start_with_a_weak_configured_secret(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CHAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LLM_CHAT_JWT_SECRET", value)
    with pytest.raises(InsecureSecretError, match="LLM_CHAT_JWT_SECRET"):
        load_settings()


def test_a_weak_secret_in_dotenv_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("LLM_CHAT_ENCRYPTION_KEY=short-secret\n")
    monkeypatch.setenv("LLM_CHAT_ENV_FILE", str(dotenv))
    monkeypatch.delenv("LLM_CHAT_ENCRYPTION_KEY")
    with pytest.raises(InsecureSecretError, match="LLM_CHAT_ENCRYPTION_KEY is 12 characters"):
        load_settings()
