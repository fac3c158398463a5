"""Test databases: a fresh SQLite file or a MySQL database of the tests' own, migrated."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from llm_chat.config import PROJECT_ROOT

DEFAULT_MYSQL_SERVER = "mysql+pymysql://root@127.0.0.1:3306"


def mysql_server_url() -> str:
    """The server the MySQL tests use (``LLM_CHAT_TEST_MYSQL_URL``), without a database."""
    return os.environ.get("LLM_CHAT_TEST_MYSQL_URL", DEFAULT_MYSQL_SERVER).rstrip("/")


def ping_mysql(server_url: str) -> str:
    """The server's version; raises if it cannot be reached."""
    engine = sa.create_engine(server_url + "/", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SELECT VERSION()")).scalar())
    finally:
        engine.dispose()


def create_mysql_database() -> tuple[str, str]:
    """Create an empty utf8mb4 database; returns its name and URL."""
    name = f"llm_chat_test_{uuid.uuid4().hex[:12]}"
    server = mysql_server_url()
    engine = sa.create_engine(server + "/")
    with engine.connect() as connection:
        connection.execute(
            sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    engine.dispose()
    return name, f"{server}/{name}?charset=utf8mb4"


def drop_mysql_database(name: str) -> None:
    """Drop a database made by :func:`create_mysql_database`."""
    engine = sa.create_engine(mysql_server_url() + "/")
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    engine.dispose()


def sqlite_url(directory: Path) -> str:
    """A SQLite file URL in ``directory``."""
    return f"sqlite:///{directory / f'test-{uuid.uuid4().hex[:8]}.db'}"


def alembic_config(url: str) -> Config:
    """An Alembic config that migrates ``url``."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)
