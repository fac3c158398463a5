"""Protocol-level users: websocket clients speaking Reflex's event protocol like the browser.

Each user is a :class:`tests.support.reflex_server.ReflexClient` (one tab) against the running
app's URL, signed in with its own session token. Three measurements:

* :func:`concurrent_streams`: N users send at once; first-token latency, tokens delivered,
  delivery rate against the provider's, app CPU per 1000 tokens;
* :func:`idle_memory`: the app's memory idle, and its growth per connected idle session;
* :func:`bytes_by_history`: bytes on the wire of one reply at several history lengths
  (replies at the provider's full speed: few batches, so nearly deterministic).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.app import TOKEN_STORAGE_NAME, BenchApp, BenchUser
from bench.procstat import CpuSnapshot, Memory
from bench.provider import ProviderProcess, ServedRequest
from bench.stats import percentile, ws_frame_bytes
from llm_chat.state.chat import ChatState
from tests.state.helpers import assemble_stream
from tests.support.reflex_server import Frame, ReflexClient, local_storage_keys

CONNECT_TIMEOUT_S = 60.0
CONNECT_CONCURRENCY = 10
SETTLE_S = 3.0


# --------------------------------------------------------------------------- #
# Reading a reply out of the frames
# --------------------------------------------------------------------------- #


@dataclass
class ReplyFrames:
    """What one tab received for one reply, from its send to the end of the turn."""

    sent_at: float
    frames: list[Frame]
    # (time received, text shown) after each frame that changed the streaming text.
    snapshots: list[tuple[float, str]]
    done_at: float | None

    @property
    def bytes(self) -> int:
        """Websocket bytes received: payloads (Engine.IO type byte included) and headers."""
        return sum(ws_frame_bytes(f.size) for f in self.frames)

    @property
    def text(self) -> str:
        """The streamed text as the browser assembled it (before the turn's end cleared it)."""
        return next((text for _, text in reversed(self.snapshots) if text), "")

    @property
    def first_at(self) -> float | None:
        """When the first text arrived."""
        return next((t for t, text in self.snapshots if text), None)

    def complete_at(self, expected: str) -> float | None:
        """When the whole expected text had arrived."""
        return next((t for t, text in self.snapshots if len(text) >= len(expected)), None)


class _TurnWatch:
    """Predicate for ``wait_for``: the turn started after frame ``mark`` has ended.

    ``is_streaming`` turns true when the send is accepted and false when the turn ends. Scans
    each frame once (a predicate runs on every frame).
    """

    def __init__(self, mark: int) -> None:
        self.next = mark
        self.started = False
        self.done_index: int | None = None

    def __call__(self, tab: ReflexClient) -> bool:
        frames = tab.frames
        while self.done_index is None and self.next < len(frames):
            frame = frames[self.next]
            if frame.has(ChatState, "is_streaming"):
                streaming = frame.get(ChatState, "is_streaming")
                if streaming:
                    self.started = True
                elif self.started:
                    self.done_index = self.next
            self.next += 1
        return self.done_index is not None


async def send_and_wait(tab: ReflexClient, text: str, timeout: float) -> ReplyFrames:  # noqa: ASYNC109
    """Send ``text``; wait until the turn ends; return the frames of the reply."""
    mark = len(tab.frames)
    watch = _TurnWatch(mark)
    sent_at = time.monotonic()
    await tab.emit(ChatState.send, {"form": {"message": text}})
    with contextlib.suppress(TimeoutError):
        await tab.wait_for(watch, timeout=timeout)
    end = len(tab.frames) if watch.done_index is None else watch.done_index + 1
    frames = tab.frames[mark:end]
    done_at = None if watch.done_index is None else tab.frames[watch.done_index].received_at
    return ReplyFrames(
        sent_at=sent_at, frames=frames, snapshots=assemble_stream(frames), done_at=done_at
    )


# --------------------------------------------------------------------------- #
# Tabs
# --------------------------------------------------------------------------- #


def new_tab(bench: BenchApp, user: BenchUser, storage_keys: dict[str, str]) -> ReflexClient:
    """A tab of a browser where ``user`` is signed in."""
    return ReflexClient(
        bench.loopback_url,
        storage_keys=storage_keys,
        local_storage={TOKEN_STORAGE_NAME: user.token},
        origin=bench.loopback_url,
    )


async def open_tabs(
    bench: BenchApp, users: Sequence[BenchUser], path: str = "/"
) -> list[ReflexClient]:
    """Open ``path`` in a signed-in tab per user (a few connecting at a time)."""
    keys = local_storage_keys()
    tabs = [new_tab(bench, user, keys) for user in users]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(tab: ReflexClient) -> None:
        async with gate:
            await tab.connect(path, timeout=CONNECT_TIMEOUT_S)
        if ChatState.get_full_name() not in tab.state or not tab.get(ChatState, "signed_in"):
            raise RuntimeError("a protocol user is not signed in")

    try:
        await asyncio.gather(*(connect(tab) for tab in tabs))
    except BaseException:
        await close_tabs(tabs)
        raise
    return tabs


async def close_tabs(tabs: Sequence[ReflexClient]) -> None:
    """Close every tab."""
    await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)


def marker(label: str) -> str:
    """A unique question, by which the provider's record of the request is found."""
    return f"bench {label} {secrets.token_hex(6)}"


# --------------------------------------------------------------------------- #
# N users streaming at once
# --------------------------------------------------------------------------- #


@dataclass
class StreamsResult:
    """N protocol users streaming at once."""

    users: int
    tokens_expected: int
    tokens_delivered: int
    complete_replies: int
    first_token_overhead_ms: list[float]
    first_token_p50_ms: float
    first_token_p95_ms: float
    # The overhead's two parts (p50 and p95): send -> request at the provider; the provider's
    # first token -> its frame at the client.
    before_provider_p50_ms: float
    before_provider_p95_ms: float
    after_provider_p50_ms: float
    after_provider_p95_ms: float
    provider_rate_tps: float
    delivered_rate_tps: float
    delivery_pct: float
    app_cpu_s: float
    app_cpu_ms_per_1000: float
    provider_cpu_s: float
    loadgen_cpu_s: float
    loadgen_busy_pct: float
    wall_s: float
    bytes_per_reply_median: float
    frames_per_reply_median: float
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """For the results file."""
        return asdict(self)


def delivered_tokens(text: str, expected: str, tokens: int) -> int:
    """Tokens of the reply that arrived in order: all of them, or those of the common prefix."""
    if text == expected:
        return tokens
    matched = 0
    for a, b in zip(text, expected, strict=False):
        if a != b:
            break
        matched += 1
    return matched * tokens // max(1, len(expected))


async def concurrent_streams(
    bench: BenchApp,
    provider: ProviderProcess,
    users: Sequence[BenchUser],
    *,
    tokens: int,
    expected_text: str,
    timeout: float,  # noqa: ASYNC109
) -> StreamsResult:
    """Every user sends at once (the default model streams ``tokens`` tokens); measure."""
    tabs = await open_tabs(bench, users)
    try:
        questions = [marker(f"load-{i}") for i in range(len(tabs))]
        await asyncio.sleep(1.0)  # let the connects' work settle before the clock starts
        app_before, provider_before = bench.cpu(), CpuSnapshot.take([provider.pid])
        loadgen_before, wall_before = time.process_time(), time.monotonic()
        replies = await asyncio.gather(
            *(send_and_wait(tab, q, timeout) for tab, q in zip(tabs, questions, strict=True))
        )
        app_cpu = bench.cpu().since(app_before)
        provider_cpu = CpuSnapshot.take([provider.pid]).since(provider_before)
        loadgen_cpu, wall = time.process_time() - loadgen_before, time.monotonic() - wall_before
        served = provider.wait_for(questions, timeout=30.0)
    finally:
        await close_tabs(tabs)

    expected = expected_text.lstrip()  # leading white space is never shown while streaming
    failures: list[str] = []
    overheads: list[float] = []
    befores: list[float] = []
    afters: list[float] = []
    delivered = 0
    complete = 0
    last_times: list[float] = []
    for q, reply in zip(questions, replies, strict=True):
        got = delivered_tokens(reply.text, expected, tokens)
        delivered += got
        if reply.text == expected:
            complete += 1
        else:
            failures.append(f"{q}: {got}/{tokens} tokens, done={reply.done_at is not None}")
        rec = served.get(q)
        first = reply.first_at
        if rec is not None and rec.ttft is not None and first is not None:
            overheads.append((first - reply.sent_at - rec.ttft) * 1000)
            if rec.arrived_at is not None and rec.first_token_at is not None:
                befores.append((rec.arrived_at - reply.sent_at) * 1000)
                afters.append((first - rec.first_token_at) * 1000)
        end = reply.complete_at(expected) or (reply.snapshots[-1][0] if reply.snapshots else None)
        if end is not None:
            last_times.append(end)
    records: list[ServedRequest] = [served[q] for q in questions if q in served]
    emitted = sum(r.tokens_sent for r in records)
    provider_span = max(r.ended_at or r.started_at for r in records) - min(
        r.started_at for r in records
    )
    delivery_span = (max(last_times) if last_times else wall_before + wall) - min(
        r.sent_at for r in replies
    )
    provider_rate = emitted / provider_span if provider_span > 0 else 0.0
    delivered_rate = delivered / delivery_span if delivery_span > 0 else 0.0
    return StreamsResult(
        users=len(users),
        tokens_expected=tokens * len(users),
        tokens_delivered=delivered,
        complete_replies=complete,
        first_token_overhead_ms=overheads,
        first_token_p50_ms=percentile(overheads, 50),
        first_token_p95_ms=percentile(overheads, 95),
        before_provider_p50_ms=percentile(befores, 50),
        before_provider_p95_ms=percentile(befores, 95),
        after_provider_p50_ms=percentile(afters, 50),
        after_provider_p95_ms=percentile(afters, 95),
        provider_rate_tps=provider_rate,
        delivered_rate_tps=delivered_rate,
        delivery_pct=100 * delivered_rate / provider_rate if provider_rate else 0.0,
        app_cpu_s=app_cpu,
        app_cpu_ms_per_1000=app_cpu * 1000 / delivered * 1000 if delivered else float("inf"),
        provider_cpu_s=provider_cpu,
        loadgen_cpu_s=loadgen_cpu,
        loadgen_busy_pct=100 * loadgen_cpu / wall if wall else 0.0,
        wall_s=wall,
        bytes_per_reply_median=statistics.median(r.bytes for r in replies),
        frames_per_reply_median=statistics.median(len(r.frames) for r in replies),
        failures=failures[:10],
    )


# --------------------------------------------------------------------------- #
# Memory
# --------------------------------------------------------------------------- #


@dataclass
class MemoryResult:
    """The app's memory idle, and per connected idle session."""

    idle_pss: int
    idle_rss: int
    sessions: int
    with_sessions_pss: int
    with_sessions_rss: int
    per_session_pss: float
    per_session_rss: float
    processes: int

    def as_dict(self) -> dict[str, Any]:
        """For the results file."""
        return asdict(self)


async def idle_memory(bench: BenchApp, users: Sequence[BenchUser], sessions: int) -> MemoryResult:
    """Memory of the idle app, then with ``sessions`` signed-in tabs open on the chat page.

    A few tabs are opened and closed first, so that what loads on first use is loaded.
    """
    warm = await open_tabs(bench, [users[i % len(users)] for i in range(3)])
    await close_tabs(warm)
    await asyncio.sleep(SETTLE_S)
    idle = bench.memory()
    tabs = await open_tabs(bench, [users[i % len(users)] for i in range(sessions)])
    try:
        await asyncio.sleep(SETTLE_S)
        busy = bench.memory()
    finally:
        await close_tabs(tabs)
    return MemoryResult(
        idle_pss=idle.pss,
        idle_rss=idle.rss,
        sessions=sessions,
        with_sessions_pss=busy.pss,
        with_sessions_rss=busy.rss,
        per_session_pss=(busy.pss - idle.pss) / sessions,
        per_session_rss=(busy.rss - idle.rss) / sessions,
        processes=idle.processes,
    )


def memory_now(bench: BenchApp) -> Memory:
    """The app's memory now."""
    return bench.memory()


# --------------------------------------------------------------------------- #
# Bytes by history length
# --------------------------------------------------------------------------- #


@dataclass
class HistoryBytes:
    """One reply at one history length, over the protocol."""

    turns: int
    bytes: int
    frames: int
    complete: bool
    first_token_overhead_ms: float | None
    shown_s: float | None


async def bytes_by_history(
    bench: BenchApp,
    provider: ProviderProcess,
    user: BenchUser,
    *,
    turns: Sequence[int],
    conversations: dict[int, int],
    model_id: int,
    expected_text: str,
    timeout: float,  # noqa: ASYNC109
) -> list[HistoryBytes]:
    """One full-speed reply in a new chat (turn 0) and in each seeded conversation."""
    expected = expected_text.lstrip()
    results: list[HistoryBytes] = []
    [tab] = await open_tabs(bench, [user])
    try:
        for n in turns:
            if n:
                await tab.navigate(f"/c/{conversations[n]}", timeout=CONNECT_TIMEOUT_S)
            else:
                await tab.navigate("/", timeout=CONNECT_TIMEOUT_S)
                await tab.call(
                    ChatState.pick_model,
                    {"model_id": str(model_id)},
                    until=lambda t: t.get(ChatState, "selected_model") == str(model_id),
                )
            if tab.get(ChatState, "selected_model") != str(model_id):
                raise RuntimeError(f"turn {n}: the conversation's model was not selected")
            await asyncio.sleep(0.5)
            q = marker(f"history-{n}")
            reply = await send_and_wait(tab, q, timeout)
            rec = provider.wait_for([q]).get(q)
            first = reply.first_at
            overhead = (
                (first - reply.sent_at - rec.ttft) * 1000
                if rec is not None and rec.ttft is not None and first is not None
                else None
            )
            shown = reply.complete_at(expected)
            results.append(
                HistoryBytes(
                    turns=n,
                    bytes=reply.bytes,
                    frames=len(reply.frames),
                    complete=reply.text == expected,
                    first_token_overhead_ms=overhead,
                    shown_s=None if shown is None else shown - reply.sent_at,
                )
            )
    finally:
        await close_tabs([tab])
    return results
