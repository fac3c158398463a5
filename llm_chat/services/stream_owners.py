"""Which process writes each reply still marked ``streaming``, so that the replies of a
process that died (``kill -9``, a crash, a power cut) end ``interrupted`` at once.

One process alone (no ``REFLEX_REDIS_URL``): when it starts, no reply can be streaming in
any live process, so every ``streaming`` row is one a dead process left. Several workers
(with Redis): each running reply holds a key in Redis naming its worker, which a heartbeat
of that worker renews; on start, and every :data:`SWEEP_SECONDS` after, a worker marks the
``streaming`` rows whose key is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from functools import lru_cache

import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.config import get_settings
from llm_chat.db import transaction
from llm_chat.models import Message, MessageStatus
from llm_chat.models.base import utcnow
from llm_chat.providers.errors import INTERRUPTED

logger = logging.getLogger(__name__)

# How long a reply's key outlives its worker's last heartbeat.
OWNER_TTL_SECONDS = 30
HEARTBEAT_SECONDS = 10.0
SWEEP_SECONDS = 15.0
# A row younger than this may be a turn whose key is being written: left for the next sweep.
GRACE = timedelta(seconds=10)
_KEY = "llm_chat:reply:{reply_id}"
# This process, as the keys name it.
INSTANCE = uuid.uuid4().hex

_MESSAGES = Message.__table__  # type: ignore[attr-defined]  (SQLModel sets it)


class Owners:
    """The replies this process writes, as other processes can see them (Redis), or as
    this process alone knows them."""

    def __init__(self, url: str = "") -> None:
        self._redis = aioredis.Redis.from_url(url) if url else None
        self.mine: set[int] = set()

    @property
    def shared(self) -> bool:
        """Whether other workers may be writing replies too."""
        return self._redis is not None

    async def claim(self, reply_id: int) -> None:
        """Note that this process writes ``reply_id``."""
        self.mine.add(reply_id)
        if self._redis is not None:
            await self._redis.set(_KEY.format(reply_id=reply_id), INSTANCE, ex=OWNER_TTL_SECONDS)

    async def release(self, reply_id: int) -> None:
        """``reply_id`` is saved for good."""
        self.mine.discard(reply_id)
        if self._redis is not None:
            await self._redis.delete(_KEY.format(reply_id=reply_id))

    async def heartbeat(self) -> None:
        """Keep the keys of this process's replies alive."""
        if self._redis is None or not self.mine:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for reply_id in self.mine:
                pipe.expire(_KEY.format(reply_id=reply_id), OWNER_TTL_SECONDS)
            await pipe.execute()

    async def alive(self, reply_ids: list[int]) -> set[int]:
        """Which of ``reply_ids`` a live process writes."""
        if self._redis is None or not reply_ids:
            return {r for r in reply_ids if r in self.mine}
        owners = await self._redis.mget([_KEY.format(reply_id=r) for r in reply_ids])
        return {r for r, owner in zip(reply_ids, owners, strict=True) if owner is not None}


@lru_cache(maxsize=1)
def owners() -> Owners:
    """This process's owners, shared through Redis when the workers share one."""
    return Owners(get_settings().redis_url)


@transaction
def streaming_replies(session: Session, *, older_than: timedelta | None = None) -> list[int]:
    """The ids of replies marked ``streaming`` (last written before ``older_than`` ago)."""
    query = sa.select(_MESSAGES.c.id).where(_MESSAGES.c.status == MessageStatus.STREAMING.value)
    if older_than is not None:
        query = query.where(_MESSAGES.c.updated_at < utcnow() - older_than)
    return list(session.connection().execute(query).scalars())


@transaction
def mark_interrupted(session: Session, *, reply_ids: Iterable[int]) -> int:
    """End these replies ``interrupted`` (if they are still ``streaming``); how many were."""
    ids = list(reply_ids)
    if not ids:
        return 0
    result = session.connection().execute(
        sa.update(_MESSAGES)
        .where(_MESSAGES.c.id.in_(ids), _MESSAGES.c.status == MessageStatus.STREAMING.value)
        .values(status=MessageStatus.INTERRUPTED.value, error=INTERRUPTED, updated_at=utcnow())
    )
    return int(result.rowcount or 0)


async def close_orphans(*, starting: bool, registry: Owners | None = None) -> int:
    """Mark the replies no live process writes ``interrupted``; how many there were.

    ``starting``: this process has just started (it writes none yet).
    """
    registry = registry or owners()
    grace = GRACE if registry.shared or not starting else None
    candidates = await streaming_replies(older_than=grace)
    orphans = set(candidates) - await registry.alive(candidates)
    marked = await mark_interrupted(reply_ids=orphans)
    if marked:
        logger.warning(
            "Marked %d replies left streaming by a stopped process as interrupted", marked
        )
    return marked


@contextlib.asynccontextmanager
async def watch_orphans() -> AsyncIterator[None]:
    """The app's lifespan: close the replies a dead process left, now and (with several
    workers) every :data:`SWEEP_SECONDS`, while keeping this process's own alive."""
    try:
        await close_orphans(starting=True)
    except Exception:  # e.g. a schema not migrated yet: start-up says so; serve anyway
        logger.exception("Could not close the replies left streaming by a stopped process")
    task = asyncio.create_task(_keep_watch()) if owners().shared else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _keep_watch() -> None:
    since_sweep = 0.0
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await owners().heartbeat()
            since_sweep += HEARTBEAT_SECONDS
            if since_sweep >= SWEEP_SECONDS:
                since_sweep = 0.0
                await close_orphans(starting=False)
        except Exception:  # a Redis or database hiccup: the next round tries again
            logger.exception("Could not check for replies left by stopped workers")
