"""A reply's feed and its time batches, on scripted sources (no provider, no database)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from llm_chat.services.replies import BATCH_RAMP_SECONDS, Batch, ReplyFeed, batch_by_time


async def _texts(count: int, every: float, *, reasoning: int = 0) -> AsyncIterator[tuple[str, str]]:
    for index in range(reasoning):
        yield "", f"r{index} "
        await asyncio.sleep(every)
    for index in range(count):
        yield f"t{index} ", ""
        await asyncio.sleep(every)


async def test_batches_join_pieces_by_time_and_send_the_first_at_once() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    arrivals: list[tuple[float, Batch]] = []
    async for batch in batch_by_time(ReplyFeed(_texts(30, 0.005)), 0.05, asyncio.Event()):
        arrivals.append((loop.time() - start, batch))
    assert "".join(b.text for _, b in arrivals) == "".join(f"t{i} " for i in range(30))
    assert arrivals[0][1] == Batch("t0 ", "")
    assert arrivals[0][0] < 0.03
    assert 2 <= len(arrivals) < 15


async def test_reasoning_and_answer_are_batched_apart_in_order() -> None:
    batches = [
        b
        async for b in batch_by_time(
            ReplyFeed(_texts(5, 0.002, reasoning=5)), 0.01, asyncio.Event()
        )
    ]
    assert "".join(b.reasoning for b in batches) == "".join(f"r{i} " for i in range(5))
    assert "".join(b.text for b in batches) == "".join(f"t{i} " for i in range(5))
    # Reasoning comes first: no batch has answer text before the last reasoning.
    last_reasoning = max(i for i, b in enumerate(batches) if b.reasoning)
    first_text = min(i for i, b in enumerate(batches) if b.text)
    assert last_reasoning <= first_text


async def test_batches_flush_what_came_before_an_error() -> None:
    async def failing() -> AsyncIterator[tuple[str, str]]:
        yield "a", ""
        yield "b", ""
        raise RuntimeError("gone")

    seen: list[str] = []

    async def consume() -> None:
        async for batch in batch_by_time(ReplyFeed(failing()), 0.05, asyncio.Event()):
            seen.append(batch.text)

    with pytest.raises(RuntimeError, match="gone"):
        await consume()
    assert "".join(seen) == "ab"


async def test_batches_grow_after_the_start_of_a_reply() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    times: list[float] = []
    batches = batch_by_time(ReplyFeed(_texts(500, 0.005)), 0.02, asyncio.Event(), max_interval=0.2)
    async for _ in batches:
        times.append(loop.time() - start)
    late_gaps = [b - a for a, b in itertools.pairwise(times) if a > BATCH_RAMP_SECONDS]
    assert late_gaps
    assert min(late_gaps[:-1]) >= 0.19  # the last batch may flush early, at the end
    assert sum(1 for t in times if t < 0.5) >= 5  # 20-ms-ish batches at the start


async def test_a_stop_ends_the_batches_and_closes_the_source() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[tuple[str, str]]:
        try:
            while True:
                yield "x", ""
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    stop = asyncio.Event()
    seen = 0
    async for _ in batch_by_time(ReplyFeed(endless()), 0.01, stop):
        seen += 1
        if seen == 3:
            stop.set()
    assert closed.is_set()
    assert seen <= 4  # what had arrived before the stop may still come, once


async def test_a_feed_reads_its_source_before_anyone_asks() -> None:
    read: list[str] = []

    async def source() -> AsyncIterator[tuple[str, str]]:
        for piece in ("a", "b", "c"):
            read.append(piece)
            yield piece, ""

    feed = ReplyFeed(source())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert read == ["a", "b", "c"]
    assert feed.has_pending()
    batches = [b async for b in batch_by_time(feed, 0.05, asyncio.Event())]
    assert batches == [Batch("abc", "")]
