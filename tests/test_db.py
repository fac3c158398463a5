"""The database engine: SQLite writers of one process take turns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from llm_chat import db
from tests.support.databases import mysql_server_url

HOLD_S = 0.3


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    # SQLite's own wait far shorter than a writer holds the database: only the engine's
    # turn-taking lets a second writer through.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.02)
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (v INTEGER)"))
    yield engine
    engine.dispose()


def _hold_a_write(engine: Engine, wrote: threading.Event, release: threading.Event) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
        wrote.set()
        release.wait(5)


def _values(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT v FROM t")).scalars())


def test_a_second_writer_waits_its_turn_instead_of_failing(engine: Engine) -> None:
    wrote, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_a_write, args=(engine, wrote, release))
    holder.start()
    assert wrote.wait(5)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO t VALUES (2)"))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(HOLD_S)
    assert waiter.is_alive()  # waiting for the first writer, not failed
    release.set()
    holder.join(5)
    waiter.join(5)
    assert errors == []
    assert _values(engine) == [1, 2]


def test_reads_do_not_wait_for_a_writer(engine: Engine) -> None:
    wrote, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_a_write, args=(engine, wrote, release))
    holder.start()
    try:
        assert wrote.wait(5)
        assert _values(engine) == []  # the uncommitted row is not seen, and nothing waits
    finally:
        release.set()
        holder.join(5)
    assert _values(engine) == [1]


def test_a_writer_that_rolled_back_lets_the_next_one_write(engine: Engine) -> None:
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(sa.text("INSERT INTO t VALUES (1)"))
    transaction.rollback()
    connection.close()
    done = threading.Event()

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO t VALUES (2)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5)
    assert _values(engine) == [2]


@pytest.mark.mysql
def test_a_wait_for_a_pooled_connection_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    engine = sa.create_engine(
        mysql_server_url() + "/", poolclass=db.WatchedPool, pool_size=1, max_overflow=0
    )
    try:
        with engine.connect():  # opening the first connection is no wait for the pool
            pass
        assert not [r for r in caplog.records if "Waited" in r.message]
        held, got = threading.Event(), threading.Event()

        def second() -> None:
            held.wait(5)
            with engine.connect():
                got.set()

        waiter = threading.Thread(target=second)
        waiter.start()
        with engine.connect():
            held.set()
            assert not got.wait(HOLD_S)  # the only connection is out: the second waits
        waiter.join(5)
        assert got.is_set()
        [logged] = [r for r in caplog.records if "Waited" in r.message]
        assert logged.levelname == "WARNING"
        assert float(logged.message.split()[1]) >= HOLD_S * 0.9
    finally:
        engine.dispose()
