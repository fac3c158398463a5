"""How many replies a user has streaming at once, counted across every worker.

A turn takes a slot before it asks the provider and gives it back when its reply is saved.
One process keeps the count in memory; several workers (``REFLEX_REDIS_URL`` set, which is
when Reflex runs more than one) keep it in Redis: a sorted set per user of the turns that
hold a slot, each scored with the moment its lease runs out, so that the slots of a worker
that died free themselves after :data:`LEASE_SECONDS`. A running turn renews its lease.
"""

from __future__ import annotations

import time
import uuid
from functools import lru_cache
from typing import Protocol

import redis.asyncio as aioredis

from llm_chat.config import get_settings
from llm_chat.errors import LimitError

# How long a slot outlives a worker that stopped renewing it: longer than a provider may
# stay silent (LLM_CHAT_PROVIDER_TIMEOUT, 60 s by default), since a turn renews as its
# reply arrives.
LEASE_SECONDS = 180.0
# How often a running turn renews its lease (at most).
RENEW_SECONDS = 15.0
_KEY = "llm_chat:streams:{user_id}"
# The count a user with no limit is held to (still counted, so that a limit set later holds).
UNLIMITED = 1_000_000


class SlotStore(Protocol):
    """Where the slots are counted."""

    async def take(self, user_id: int, slot: str, limit: int) -> bool:
        """Take ``slot`` if the user holds fewer than ``limit``; whether it was taken."""
        ...

    async def renew(self, user_id: int, slot: str) -> None:
        """Keep ``slot`` alive for another lease."""
        ...

    async def give_back(self, user_id: int, slot: str) -> None:
        """Free ``slot``."""
        ...


class LocalSlots:
    """The slots of one process, in memory (taking one never yields: no race)."""

    def __init__(self) -> None:
        self._held: dict[int, set[str]] = {}

    async def take(self, user_id: int, slot: str, limit: int) -> bool:
        held = self._held.setdefault(user_id, set())
        if len(held) >= limit:
            return False
        held.add(slot)
        return True

    async def renew(self, user_id: int, slot: str) -> None:
        return None

    async def give_back(self, user_id: int, slot: str) -> None:
        held = self._held.get(user_id)
        if held is not None:
            held.discard(slot)
            if not held:
                del self._held[user_id]


# Atomically: drop expired leases, count, and add the slot if there is room.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisSlots:
    """The slots of every worker, in Redis."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._take = self._redis.register_script(_TAKE)

    async def take(self, user_id: int, slot: str, limit: int) -> bool:
        now = time.time()
        taken = await self._take(
            keys=[_KEY.format(user_id=user_id)],
            args=[now, now + LEASE_SECONDS, limit, slot, int(LEASE_SECONDS) + 1],
        )
        return bool(taken)

    async def renew(self, user_id: int, slot: str) -> None:
        key = _KEY.format(user_id=user_id)
        await self._redis.zadd(key, {slot: time.time() + LEASE_SECONDS}, xx=True)
        await self._redis.expire(key, int(LEASE_SECONDS) + 1)

    async def give_back(self, user_id: int, slot: str) -> None:
        await self._redis.zrem(_KEY.format(user_id=user_id), slot)


@lru_cache(maxsize=1)
def slot_store() -> SlotStore:
    """The store for this deployment: Redis when the workers share one, else memory."""
    url = get_settings().redis_url
    return RedisSlots(url) if url else LocalSlots()


async def take_slot(user_id: int, limit: int) -> str:
    """A slot for a new reply of ``user_id``, who may stream ``limit`` replies at once (0:
    any number; see ``services/limits.py``); give it back with ``slot_store().give_back``.

    Raises:
        LimitError: ``chat.too_many_streams`` if the user has ``limit`` replies streaming.
    """
    slot = uuid.uuid4().hex
    if not await slot_store().take(user_id, slot, limit or UNLIMITED):
        raise LimitError("chat.too_many_streams")
    return slot
