"""Database engine and sessions."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlmodel import Session

from llm_chat.config import get_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")

# Below MySQL's default wait_timeout (8 h) and typical proxies' idle limits.
POOL_RECYCLE_SECONDS = 1800
# Threads for blocking database work (and bcrypt), fewer than the connection pool holds.
DB_THREADS = 8
# The pool (MySQL/MariaDB): room for every database thread and the event loop, with spare.
POOL_SIZE = 10
POOL_OVERFLOW = 20
# A wait for a pooled connection at least this long is logged (see WatchedPool).
POOL_WAIT_LOGGED_S = 0.05
# How long a SQLite writer waits for a writer of another process (SQLite's busy timeout), and
# for one of this process (see _serialize_sqlite_writes).
SQLITE_BUSY_TIMEOUT_S = 30.0
SQLITE_WRITER_WAIT_S = 30.0
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_HELD_WRITE_LOCK = "llm_chat_sqlite_write_lock"


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` set up for SQLite or MySQL/MariaDB."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
        )
        _serialize_sqlite_writes(engine)

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
        url,
        poolclass=WatchedPool,
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )


class WatchedPool(QueuePool):
    """SQLAlchemy's queue pool, saying in the log when a caller waited for a connection.

    Database work holds a connection only inside a database thread (or, on SQLite, on the
    event loop), never while waiting for another: at most DB_THREADS + 1 are out at once,
    fewer than the pool holds, so no caller should ever wait. A wait means that rule was
    broken somewhere: it is logged with how long it took (``bench/pool_load.py`` counts
    these lines).
    """

    def _do_get(self) -> ConnectionPoolEntry:
        # Only a caller that finds every connection out waits (opening a new one is not a
        # wait for the pool, and is slow for reasons of its own).
        if self._pool.qsize() or self._overflow < self._max_overflow:
            return super()._do_get()
        started = time.perf_counter()
        try:
            return super()._do_get()
        finally:
            waited = time.perf_counter() - started
            if waited >= POOL_WAIT_LOGGED_S:
                logger.warning("Waited %.3f s for a database connection", waited)


# SQLAlchemy names a pool's logger after its class: keep its routine INFO lines (pool
# disposed, recreated) out of the app's log, as they are for its own pool classes.
logging.getLogger(f"{__name__}.{WatchedPool.__name__}").setLevel(logging.WARNING)


def _serialize_sqlite_writes(engine: Engine) -> None:
    """Let this process's SQLite writers take turns on a lock instead of the busy handler.

    SQLite has one writer at a time. A transaction that finds the database locked sleeps in
    SQLite's busy handler, in steps of up to 100 ms however soon the lock frees: a burst of
    turns saved at once took over a second (``make bench``). Here a transaction takes a lock
    of the engine before its first write and gives it back when its connection returns to
    the pool (after the commit or rollback); a waiting writer starts as soon as it is free.
    Reads never wait (WAL). Other processes still meet the busy handler.
    """
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        info = conn.info
        if _HELD_WRITE_LOCK in info or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        # A connection of this thread that already holds it would wait forever: time out
        # and leave it to SQLite.
        if lock.acquire(timeout=SQLITE_WRITER_WAIT_S):
            info[_HELD_WRITE_LOCK] = lock

    @event.listens_for(engine, "checkin")
    def _give_back(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        held = record.info.pop(_HELD_WRITE_LOCK, None)
        if held is not None:
            held.release()


def inserted_id(result: CursorResult[Any]) -> int:
    """The id of the row a single-row INSERT made."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


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


class Transaction(Generic[P, T]):
    """A service function over the database: awaited, it runs in a transaction of its own.

    The service decides where its work runs (see :func:`transaction`), so callers never
    choose a thread or hold a session: each call takes one pooled connection and gives it
    back before it returns. ``within`` runs the same function as part of a caller's
    transaction (another service, the CLI, a test's setup).
    """

    def __init__(self, fn: Callable[Concatenate[Session, P], T], *, short: bool) -> None:
        self.fn = fn
        self.short = short
        functools.update_wrapper(self, fn)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run in a transaction of its own; committed on success, rolled back on error."""

        def call() -> T:
            with session_scope() as session:
                return self.fn(session, *args, **kwargs)

        if self.short and get_engine().dialect.name == "sqlite":
            # SQLite's work is CPU work under the GIL: a short transaction runs on the event
            # loop, start to end without yielding. A database thread gives the GIL away at
            # every statement and waits for a busy loop to give it back (up to the 5 ms
            # switch interval each time): with 100 turns starting at once, their reads and
            # writes took up to a second (``make bench``). Writers of this process still take
            # turns on the write lock (see :func:`_serialize_sqlite_writes`).
            return call()
        return await run_blocking(call)

    def within(self, session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run as part of ``session``'s transaction."""
        return self.fn(session, *args, **kwargs)


def transaction(fn: Callable[Concatenate[Session, P], T]) -> Transaction[P, T]:
    """Make ``fn(session, ...)`` a service: ``await fn(...)`` runs it in a database thread.

    Keeps blocking database work (and bcrypt) off the event loop, which serves every user.
    """
    return Transaction(fn, short=False)


def short_transaction(fn: Callable[Concatenate[Session, P], T]) -> Transaction[P, T]:
    """Like :func:`transaction`, for a few statements on indexes (a chat turn's reads and
    writes, the sign-in check): on SQLite it runs on the event loop (see
    :meth:`Transaction.__call__`), elsewhere in the database threads."""
    return Transaction(fn, short=True)
