"""Replies left ``streaming`` by a process that died end ``interrupted``: at once when a lone
process starts, and with several workers, once no live worker holds them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import Message, MessageStatus
from llm_chat.models.base import utcnow
from llm_chat.services import stream_owners, turn_plan, turn_rows
from llm_chat.services.stream_owners import Owners, close_orphans
from tests.support.factories import make_model, make_user

REDIS_URL = "redis://127.0.0.1:6379/0"


def _placeholder(user_id: int, model_id: int, *, age: timedelta = timedelta(0)) -> int:
    """A turn's rows as a process writes them before its reply streams; returns the reply."""
    with session_scope() as session:
        plan = turn_plan.plan_turn.within(
            session, user_id=user_id, conversation_id=None, model=model_id, text="Hello"
        )
        reply_id = turn_rows.record_turn.within(session, plan=plan).reply_message_id
        session.connection().execute(
            sa.update(Message.__table__)  # type: ignore[attr-defined]
            .where(Message.__table__.c.id == reply_id)  # type: ignore[attr-defined]
            .values(updated_at=utcnow() - age)
        )
    return reply_id


def _status(reply_id: int) -> tuple[str, str | None]:
    with session_scope() as session:
        message = session.get(Message, reply_id)
        assert message is not None
        return message.status, message.error


async def test_a_lone_process_starting_closes_every_streaming_reply(app_db: Engine) -> None:
    user, model_id = make_user(), make_model("http://127.0.0.1:9/v1")
    fresh = _placeholder(user.id, model_id)  # a crash a moment ago: not a minute old
    old = _placeholder(user.id, model_id, age=timedelta(hours=1))
    assert await close_orphans(starting=True, registry=Owners()) == 2
    assert _status(fresh) == _status(old) == (MessageStatus.INTERRUPTED, "provider.interrupted")
    # Replies that ended are never touched.
    assert await close_orphans(starting=True, registry=Owners()) == 0


@pytest.fixture
async def workers() -> AsyncIterator[tuple[Owners, Owners]]:
    """Two workers sharing Redis (their keys are deleted afterwards)."""
    first, second = Owners(REDIS_URL), Owners(REDIS_URL)
    yield first, second
    client = aioredis.Redis.from_url(REDIS_URL)
    for reply_id in first.mine | second.mine:
        await client.delete(stream_owners._KEY.format(reply_id=reply_id))
    await client.aclose()


async def test_workers_close_only_the_replies_of_a_dead_worker(
    app_db: Engine, workers: tuple[Owners, Owners], monkeypatch: pytest.MonkeyPatch
) -> None:
    alive, sweeper = workers
    user, model_id = make_user(), make_model("http://127.0.0.1:9/v1")
    # Reply ids are per test database; keys are made unique across test runs.
    monkeypatch.setattr(stream_owners, "_KEY", f"llm_chat:test:{uuid.uuid4().hex}:{{reply_id}}")
    held = _placeholder(user.id, model_id, age=timedelta(minutes=5))
    await alive.claim(held)
    orphan = _placeholder(user.id, model_id, age=timedelta(minutes=5))
    just_written = _placeholder(user.id, model_id)  # its worker may be claiming it right now
    assert await close_orphans(starting=False, registry=sweeper) == 1
    assert _status(orphan)[0] == MessageStatus.INTERRUPTED
    assert _status(held)[0] == _status(just_written)[0] == MessageStatus.STREAMING
    # A worker starting while others run leaves their fresh replies alone too.
    assert await close_orphans(starting=True, registry=sweeper) == 0

    # The worker that holds a reply keeps it alive with its heartbeat; once it is gone, the
    # key lapses and the next sweep closes the reply.
    monkeypatch.setattr(stream_owners, "OWNER_TTL_SECONDS", 1)
    await alive.heartbeat()
    assert await close_orphans(starting=False, registry=sweeper) == 0
    await asyncio.sleep(1.3)
    assert await close_orphans(starting=False, registry=sweeper) == 1
    assert _status(held)[0] == MessageStatus.INTERRUPTED
    # A reply saved for good gives its key back.
    await alive.claim(just_written)
    await alive.release(just_written)
    assert await alive.alive([just_written]) == set()
