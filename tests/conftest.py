"""Fixtures: isolated settings, real databases (SQLite and MariaDB), the loopback provider."""

from __future__ import annotations

import inspect
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

# Isolated settings before anything imports llm_chat.config (no developer's .env either).
os.environ["LLM_CHAT_ENV_FILE"] = ""
_TEST_DATA_DIR = Path(tempfile.mkdtemp(prefix="llm-chat-tests-"))
os.environ["LLM_CHAT_DATA_DIR"] = str(_TEST_DATA_DIR)
os.environ["LLM_CHAT_JWT_SECRET"] = secrets.token_urlsafe(48)
os.environ["LLM_CHAT_ENCRYPTION_KEY"] = secrets.token_urlsafe(48)
os.environ.pop("LLM_CHAT_DATABASE_URL", None)
for _name in ("OPENAI_API_KEY", "DEEPSEEK_API_KEY"):
    os.environ.pop(_name, None)

import pytest  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from llm_chat import config as config_module  # noqa: E402
from llm_chat import db as db_module  # noqa: E402
from llm_chat.providers.client import close_connections  # noqa: E402
from llm_chat.services import catalog  # noqa: E402
from tests.fake_provider import FakeProvider  # noqa: E402
from tests.support.databases import (  # noqa: E402
    create_mysql_database,
    drop_mysql_database,
    migrate,
    sqlite_url,
)


def _use_database(url: str) -> Engine:
    """Point the app's own configuration at ``url`` (as LLM_CHAT_DATABASE_URL would)."""
    os.environ["LLM_CHAT_DATABASE_URL"] = url
    config_module.get_settings.cache_clear()
    db_module.get_engine.cache_clear()
    catalog.default_box.cache_clear()
    return db_module.get_engine()


def _reset_database_config() -> None:
    db_module.get_engine().dispose()
    os.environ.pop("LLM_CHAT_DATABASE_URL", None)
    config_module.get_settings.cache_clear()
    db_module.get_engine.cache_clear()


@pytest.fixture(params=["sqlite", "mysql"])
def app_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The app's database, migrated: a SQLite file, then a MariaDB database of its own."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        migrate(url)
        yield _use_database(url)
        _reset_database_config()
        return
    name, url = create_mysql_database()
    try:
        migrate(url)
        yield _use_database(url)
    finally:
        _reset_database_config()
        drop_mysql_database(name)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Engine]:
    """The app's database on SQLite only (for tests where the backend does not matter)."""
    url = sqlite_url(tmp_path)
    migrate(url)
    yield _use_database(url)
    _reset_database_config()


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    """A loopback OpenAI-compatible server, reached over real HTTP."""
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
async def closes_provider_connections() -> AsyncIterator[None]:
    """The test's event loop closes the provider connections it opened before it ends (the
    app's lifespan does this in the app)."""
    yield
    await close_connections()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every async test closes its loop's provider connections (sync tests have no loop of
    their own; the browser tests' Playwright runs one that must not be nested)."""
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.function):
            item.fixturenames.append("closes_provider_connections")
