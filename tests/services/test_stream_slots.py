"""A cap on the replies one user has streaming at once: in one process, and across workers
through the Redis the workers share."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis
from sqlalchemy.engine import Engine

from llm_chat import config as config_module
from llm_chat.errors import LimitError, NotFoundError
from llm_chat.models import MessageStatus
from llm_chat.services import conversations, stream_slots, turns
from llm_chat.services.stream_slots import LocalSlots, RedisSlots
from tests.fake_provider import FakeProvider, ReplySpec
from tests.support.factories import make_model, make_user

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _start(
    user_id: int, model_id: int, conversation_id: int | None = None
) -> turns.RunningTurn:
    return await turns.start_turn(
        user_id=user_id, conversation_id=conversation_id, model=model_id, text="Go"
    )


@pytest.fixture
def two_at_most(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings that allow two replies at once per user, counted in this process."""
    monkeypatch.setenv("LLM_CHAT_MAX_STREAMS_PER_USER", "2")
    config_module.get_settings.cache_clear()
    stream_slots.slot_store.cache_clear()
    yield
    config_module.get_settings.cache_clear()
    stream_slots.slot_store.cache_clear()


async def test_a_user_over_the_cap_is_refused_before_anything_is_asked(
    app_db: Engine, provider: FakeProvider, two_at_most: None
) -> None:
    user, other = make_user(), make_user()
    model_id = make_model(provider.base_url)
    provider.default = ReplySpec(token_count=300, delay=0.01)
    first, second = await _start(user.id, model_id), await _start(user.id, model_id)
    with pytest.raises(LimitError) as refused:
        await _start(user.id, model_id)
    assert refused.value.code == "chat.too_many_streams"
    with pytest.raises(LimitError):
        await turns.start_gateway_turn(
            user_id=user.id, model="", messages=[{"role": "user", "content": "4"}], store=True
        )
    assert len(provider.chat_requests) == 2
    assert len(await conversations.list_conversations(user_id=user.id)) == 2
    # Another user is not held back by this one.
    theirs = await turns.start_turn(
        user_id=other.id, conversation_id=None, model=model_id, text="x"
    )
    # A finished (here: stopped) reply gives its slot back.
    first.stop()
    assert (await first.outcome()).status == MessageStatus.STOPPED
    third = await _start(user.id, model_id)
    for turn in (second, third, theirs):
        await turn.close()


async def test_a_turn_that_fails_to_start_gives_its_slot_back(
    app_db: Engine, provider: FakeProvider, two_at_most: None
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    for _ in range(3):  # more failures than slots
        with pytest.raises(NotFoundError):  # the plan refuses: no such conversation of theirs
            await _start(user.id, model_id, conversation_id=999)
    turn = await _start(user.id, model_id)
    assert (await turn.outcome()).status == MessageStatus.COMPLETE


async def test_local_slots_count_per_user() -> None:
    slots = LocalSlots()
    assert await slots.take(1, "a", 2)
    assert await slots.take(1, "b", 2)
    assert not await slots.take(1, "c", 2)
    assert await slots.take(2, "c", 2)
    await slots.give_back(1, "a")
    assert await slots.take(1, "c", 2)


@pytest.fixture
async def redis_user() -> AsyncIterator[int]:
    """A user id whose slot key no one else uses; the key is deleted afterwards."""
    user_id = 10**9 + uuid.uuid4().int % 10**6
    yield user_id
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.delete(stream_slots._KEY.format(user_id=user_id))
    await client.aclose()


async def test_workers_share_the_count_through_redis(redis_user: int) -> None:
    worker_a, worker_b = RedisSlots(REDIS_URL), RedisSlots(REDIS_URL)
    assert await worker_a.take(redis_user, "a1", 2)
    assert await worker_b.take(redis_user, "b1", 2)
    assert not await worker_a.take(redis_user, "a2", 2)
    assert not await worker_b.take(redis_user, "b2", 2)
    await worker_a.give_back(redis_user, "a1")
    assert await worker_b.take(redis_user, "b2", 2)
    # Many at once on two workers: never more than the cap.
    takes = await asyncio.gather(
        *(w.take(redis_user, f"race{i}", 3) for i, w in enumerate([worker_a, worker_b] * 10))
    )
    assert sum(takes) == 1  # b1 and b2 hold two of the three


async def test_a_dead_worker_s_slots_free_themselves(
    redis_user: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead, alive = RedisSlots(REDIS_URL), RedisSlots(REDIS_URL)
    monkeypatch.setattr(stream_slots, "LEASE_SECONDS", 0.3)
    assert await dead.take(redis_user, "gone", 1)
    assert not await alive.take(redis_user, "new", 1)
    # A running turn renews its lease; one whose worker stopped lapses.
    await asyncio.sleep(0.2)
    await dead.renew(redis_user, "gone")
    await asyncio.sleep(0.2)
    assert not await alive.take(redis_user, "new", 1)
    started = time.monotonic()
    while not await alive.take(redis_user, "new", 1):
        assert time.monotonic() - started < 2
        await asyncio.sleep(0.05)
