"""The Alembic history builds the schema the models describe, on SQLite and MariaDB."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
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
