"""Fixtures: the real app served once per session, and browser tabs talking to it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from llm_chat import config as config_module
from llm_chat import db as db_module
from llm_chat.services import turns
from tests.support.databases import migrate, sqlite_url
from tests.support.reflex_server import (
    ReflexClient,
    ReflexServer,
    build_asgi_app,
    local_storage_keys,
)

TabFactory = Callable[..., ReflexClient]


@pytest.fixture(scope="session")
def reflex_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReflexServer]:
    """The app's back end on a free port, for the whole session.

    The app's start-up task (seeding, closing stale replies) runs against a throwaway migrated
    database and is waited for; each test then points the app at its own database (``app_db``).
    """
    url = sqlite_url(Path(tmp_path_factory.mktemp("startup-db")))
    migrate(url)
    previous = os.environ.get("LLM_CHAT_DATABASE_URL")
    os.environ["LLM_CHAT_DATABASE_URL"] = url
    config_module.get_settings.cache_clear()
    db_module.get_engine.cache_clear()
    server = ReflexServer(build_asgi_app(tmp_path_factory.mktemp("states"))).start()
    try:
        server.wait_for_lifespan_tasks()
    finally:
        db_module.get_engine().dispose()
        if previous is None:
            os.environ.pop("LLM_CHAT_DATABASE_URL", None)
        else:
            os.environ["LLM_CHAT_DATABASE_URL"] = previous
        config_module.get_settings.cache_clear()
        db_module.get_engine.cache_clear()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def storage_keys(reflex_server: ReflexServer) -> dict[str, str]:
    """The app's localStorage vars, as the compiled front end lists them."""
    return local_storage_keys()


async def _wait_streams_done(timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Replies run on after their tab closes: let them end before the database goes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while turns.running_count():
        if loop.time() > deadline:
            raise TimeoutError(f"replies still streaming: {turns.running_count()}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def open_tab(
    reflex_server: ReflexServer, storage_keys: dict[str, str]
) -> AsyncIterator[TabFactory]:
    """Make browser tabs (``open_tab()``; ``open_tab(local_storage=other.local_storage)`` for
    a second tab of the same browser); they are closed after the test."""
    tabs: list[ReflexClient] = []

    def make(**kwargs: object) -> ReflexClient:
        tab = ReflexClient(reflex_server.url, storage_keys=storage_keys, **kwargs)  # type: ignore[arg-type]
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        await tab.close()
    await _wait_streams_done()
