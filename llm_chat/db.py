"""Database engine and sessions."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from llm_chat.config import get_settings

T = TypeVar("T")

# Below MySQL's default wait_timeout (8 h) and typical proxies' idle limits.
POOL_RECYCLE_SECONDS = 1800
# Threads for blocking database work (and bcrypt), fewer than the connection pool holds.
DB_THREADS = 8


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` set up for SQLite or MySQL/MariaDB."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("mysql") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return sa.create_engine(
        url, pool_pre_ping=True, pool_recycle=POOL_RECYCLE_SECONDS, pool_size=10, max_overflow=20
    )


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return create_db_engine(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@lru_cache(maxsize=1)
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="llm-chat-db")


async def run_blocking(fn: Callable[[], T], /) -> T:
    """Run ``fn()`` in the database threads (with the caller's context variables).

    These threads are the app's own: ``asyncio.to_thread`` would share the loop's default
    executor with the HTTP client's name lookups, and a burst of turns then held every
    provider request back until the last turn was saved.
    """
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_executor(), context.run, fn)


async def run_in_session(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run ``fn(session=..., **kwargs)`` in a database thread inside one transaction.

    Keeps blocking database work (and bcrypt) off the event loop, which serves every user.
    """

    def call() -> T:
        with session_scope() as session:
            return fn(session=session, **kwargs)

    return await run_blocking(call)
