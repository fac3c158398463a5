"""A reply as it streams: read from the provider at once, handed on in time batches."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncGenerator, AsyncIterator
from typing import NamedTuple

# How long batches take to grow from the first interval to the largest (see batch_by_time).
BATCH_RAMP_SECONDS = 2.0


class Batch(NamedTuple):
    """What arrived of a reply since the last batch: its answer and its reasoning."""

    text: str
    reasoning: str


class ReplyFeed:
    """A reply's pieces, read from ``source`` by a task of its own from the moment it exists.

    ``source`` yields ``(text, reasoning)`` pairs (:class:`llm_chat.providers.Piece`).
    Reading starts at once, so a provider request can go out before the turn's rows are
    written. A piece costs a list append; the consumer (:func:`batch_by_time`) waits once per
    batch, not once per piece.
    """

    def __init__(
        self, source: AsyncIterator[tuple[str, str]], answered: asyncio.Event | None = None
    ) -> None:
        """Start reading ``source``; ``answered``: set by ``source`` once the provider has
        answered the request (see :func:`llm_chat.providers.client.stream_pieces`)."""
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.arrived = asyncio.Event()
        self.failure: BaseException | None = None
        self.answered = answered if answered is not None else asyncio.Event()
        self._source = source
        self.reader = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        text, reasoning = self.text, self.reasoning
        try:
            async for piece, thought in self._source:
                if piece:
                    text.append(piece)
                if thought:
                    reasoning.append(thought)
                self.arrived.set()
        except Exception as exc:  # noqa: BLE001  (raised by the consumer, after the text)
            self.failure = exc
        finally:
            self.answered.set()  # also when the request failed or the reply was short

    def has_pending(self) -> bool:
        """Whether pieces arrived that no batch has taken yet."""
        return bool(self.text or self.reasoning)

    def take(self) -> Batch:
        """Everything that arrived since the last take."""
        batch = Batch("".join(self.text), "".join(self.reasoning))
        self.text.clear()
        self.reasoning.clear()
        return batch

    async def wait_answered(self, seconds: float) -> None:
        """Wait until the provider has answered the request (or failed), at most ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.answered.wait()

    async def aclose(self) -> None:
        """Stop reading and close ``source`` (its HTTP response, so the provider stops)."""
        if not self.reader.done():
            self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            await aclose()


async def batch_by_time(
    feed: ReplyFeed,
    interval: float,
    stop: asyncio.Event,
    *,
    max_interval: float | None = None,
) -> AsyncGenerator[Batch, None]:
    """Join pieces that arrive within ``interval`` seconds; the first goes out at once.

    With ``max_interval``, the interval grows from ``interval`` to it over the first
    BATCH_RAMP_SECONDS: the start of a reply stays lively, a long reply takes few frames
    (each costs a fixed envelope on the wire; the browser smooths the text between them).
    Ends early when ``stop`` is set. An error of the feed's source is raised after what
    came before it has been yielded. The feed is closed when the batches end.
    """
    loop = asyncio.get_running_loop()
    reader = feed.reader
    stopped = asyncio.ensure_future(stop.wait())
    first_flush: float | None = None
    last_flush = -math.inf

    def interval_now(now: float) -> float:
        if max_interval is None or first_flush is None:
            return interval
        progress = min(1.0, (now - first_flush) / BATCH_RAMP_SECONDS)
        return interval + (max_interval - interval) * progress

    try:
        while not stop.is_set():
            if not feed.has_pending():
                if reader.done():
                    break
                feed.arrived.clear()
                waiter = asyncio.ensure_future(feed.arrived.wait())
                await asyncio.wait({waiter, reader, stopped}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                continue
            now = loop.time()
            delay = last_flush + interval_now(now) - now
            if delay > 0 and not reader.done():
                # Gather more; the end of the source or a stop flushes at once.
                await asyncio.wait({reader, stopped}, timeout=delay)
                if stop.is_set():
                    break
            batch = feed.take()
            last_flush = loop.time()
            if first_flush is None:
                first_flush = last_flush
            yield batch
        if feed.has_pending():
            yield feed.take()
        if feed.failure is not None and not stop.is_set():
            raise feed.failure
    finally:
        if not stopped.done():
            stopped.cancel()
        await asyncio.gather(stopped, return_exceptions=True)
        await feed.aclose()
