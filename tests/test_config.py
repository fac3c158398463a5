"""Settings: secrets are generated once, kept private, and weak ones are refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from llm_chat.config import InsecureSecretError, check_secret, load_settings


def test_secrets_are_generated_once_in_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CHAT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LLM_CHAT_JWT_SECRET")
    monkeypatch.delenv("LLM_CHAT_ENCRYPTION_KEY")
    first = load_settings()
    secrets_file = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert len(first.jwt_secret) >= 32
    assert first.jwt_secret != first.encryption_key
    second = load_settings()
    assert (second.jwt_secret, second.encryption_key) == (first.jwt_secret, first.encryption_key)


def test_default_database_is_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CHAT_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.is_sqlite
    assert settings.database_url == f"sqlite:///{tmp_path / 'llm_chat.db'}"


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


def test_app_refuses_to_start_with_a_weak_configured_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CHAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LLM_CHAT_JWT_SECRET", "secret")
    with pytest.raises(InsecureSecretError):
        load_settings()
