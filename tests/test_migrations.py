"""The Alembic history builds the schema the models describe, on SQLite and MariaDB."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import llm_chat.models  # noqa: F401  (registers the tables)
from tests.support.databases import alembic_config


def test_models_and_migrations_do_not_drift(app_db: Engine) -> None:
    with app_db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_message_bodies_hold_more_than_64_kb_on_every_backend(app_db: Engine) -> None:
    columns = {c["name"]: c for c in inspect(app_db).get_columns("message")}
    type_name = str(columns["content"]["type"]).upper()
    if app_db.dialect.name == "mysql":
        assert "MEDIUMTEXT" in type_name
    else:
        assert "TEXT" in type_name


def test_downgrade_to_base_and_back(app_db: Engine) -> None:
    url = app_db.url.render_as_string(hide_password=False)
    config = alembic_config(url)
    command.downgrade(config, "base")
    assert "message" not in inspect(app_db).get_table_names()
    command.upgrade(config, "head")
    assert "message" in inspect(app_db).get_table_names()


# Rows of every table the auth-hardening revision rebuilds on SQLite, as revision 0003 had them
# (written as SQL: the models describe the newest schema).
_ROWS_BEFORE_0004 = [
    "INSERT INTO user_account (id, email, display_name, password_hash, role, is_active,"
    " created_at) VALUES (7, 'old@example.com', 'Old', 'x', 'user', 1, '2026-01-01 00:00:00')",
    "INSERT INTO conversation (id, user_id, title, created_at, updated_at)"
    " VALUES (3, 7, 'Kept', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO message (id, conversation_id, role, content, status, reasoning, model_name,"
    " provider_name, context_dropped, created_at, updated_at) VALUES (5, 3, 'user', 'Hi',"
    " 'complete', '', '', '', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO api_key (id, user_id, name, prefix, key_hash, created_at)"
    " VALUES (2, 7, 'k', 'llmc_x', 'ab', '2026-01-01 00:00:00')",
]
_REBUILT = ("user_account", "conversation", "message", "api_key")


def test_upgrade_keeps_every_row_and_stops_id_reuse(app_db: Engine) -> None:
    config = alembic_config(app_db.url.render_as_string(hide_password=False))
    command.downgrade(config, "0003")
    with app_db.begin() as connection:
        for statement in _ROWS_BEFORE_0004:
            connection.execute(text(statement))
    command.upgrade(config, "head")
    with app_db.connect() as connection:
        kept = {
            t: connection.execute(text(f"SELECT id FROM {t}")).scalars().all() for t in _REBUILT
        }
        version = connection.execute(text("SELECT token_version FROM user_account")).scalar()
        if app_db.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type='table'")
            )
            schemas = {name: sql for name, sql in rows}
            assert all("AUTOINCREMENT" in schemas[t] for t in _REBUILT)
    assert kept == {"user_account": [7], "conversation": [3], "message": [5], "api_key": [2]}
    assert version == 0


def test_catalog_rows_survive_0005_and_known_reasoners_are_marked(app_db: Engine) -> None:
    config = alembic_config(app_db.url.render_as_string(hide_password=False))
    command.downgrade(config, "0004")
    with app_db.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO provider (id, name, kind, base_url, api_key_encrypted, enabled,"
                " created_at) VALUES (1, 'DeepSeek', 'deepseek', 'https://api.deepseek.com/v1',"
                " 'x', 1, '2026-01-01 00:00:00')"
            )
        )
        for id_, name in ((1, "deepseek-chat"), (2, "deepseek-reasoner")):
            connection.execute(
                text(
                    "INSERT INTO chat_model (id, provider_id, display_name, model_name,"
                    " system_prompt, enabled, is_default, created_at)"
                    f" VALUES ({id_}, 1, '{name}', '{name}', '', 1, 0, '2026-01-01 00:00:00')"
                )
            )
    command.upgrade(config, "head")
    with app_db.connect() as connection:
        models = connection.execute(
            text("SELECT model_name, is_reasoning, allowed_roles FROM chat_model ORDER BY id")
        ).all()
        provider = connection.execute(
            text("SELECT extra_headers_encrypted, timeout_seconds FROM provider")
        ).one()
    assert [(m, bool(r), roles) for m, r, roles in models] == [
        ("deepseek-chat", False, ""),
        ("deepseek-reasoner", True, ""),
    ]
    assert tuple(provider) == ("", None)
    assert "audit_entry" in inspect(app_db).get_table_names()
