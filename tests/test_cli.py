"""The command line: the only way to become admin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from llm_chat import config, db
from llm_chat.cli import main
from llm_chat.db import session_scope
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from tests.conftest import _reset_database_config, _use_database
from tests.support.databases import sqlite_url
from tests.support.factories import PASSWORD, make_user


def test_admin_creates_or_promotes(sqlite_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "boss@example.com", "--name", "Boss", "--password-stdin"]) == 0
    make_user("later@example.com")
    assert main(["admin", "later@example.com"]) == 0
    with session_scope() as session:
        signed_in = users.authenticate.within(session, email="boss@example.com", password=PASSWORD)
        assert signed_in.is_admin
        assert users.count_admins.within(session) == 2
    assert main(["demote", "later@example.com"]) == 0
    assert main(["demote", "ghost@example.com"]) == 1


def test_add_provider_keeps_the_key_encrypted(
    sqlite_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-from-stdin\n"))
    code = main(
        [
            "add-provider",
            "Local",
            "http://127.0.0.1:11434/v1",
            "--model",
            "llama3",
            "--api-key-stdin",
        ]
    )
    assert code == 0
    with session_scope() as session:
        [provider] = catalog.list_providers.within(session, actor=SYSTEM)
        [model] = catalog.list_enabled_models.within(session)
        target = catalog.resolve_target(session, model_id=model.id)
    assert provider.has_api_key
    assert target.api_key == "sk-from-stdin"


def test_refuses_an_unmigrated_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _use_database(sqlite_url(tmp_path))
    try:
        assert main(["admin", "x@example.com"]) == 1
    finally:
        _reset_database_config()
    assert "make migrate" in capsys.readouterr().err


def test_a_first_run_generates_the_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_CHAT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LLM_CHAT_JWT_SECRET")
    monkeypatch.delenv("LLM_CHAT_ENCRYPTION_KEY")
    monkeypatch.setenv("LLM_CHAT_DATABASE_URL", sqlite_url(tmp_path))
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        assert main(["demote", "x@example.com"]) == 1  # not migrated, but the secrets exist
    finally:
        _reset_database_config()
    assert (tmp_path / "secrets.json").exists()


def test_refuses_a_bad_setting_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLM_CHAT_PROVIDER_TIMEOUT", "soon")
    config.get_settings.cache_clear()
    try:
        assert main(["demote", "x@example.com"]) == 1
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()
    assert "LLM_CHAT_PROVIDER_TIMEOUT" in capsys.readouterr().err
