"""Run every benchmark and print the table of the issue's targets.

    python -m bench.run [--quick] [--skip browser,protocol,load] [--strict]

Writes ``test-output/bench/latest.json`` (``quick.json`` with ``--quick``) and the app's log
next to it. Exits 1 if a part of the benchmark could not run (or, with ``--strict``, if a
target is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench import config as limits
from bench.app import BenchApp, bench_app, isolate_settings
from bench.browser_bench import BrowserBench, BrowserResult, LongPageResult, ReplyMeasure
from bench.config import OUTPUT_DIR, BenchConfig
from bench.procstat import Memory
from bench.protocol_load import (
    HistoryBytes,
    MemoryResult,
    StreamsResult,
    bytes_by_history,
    concurrent_streams,
    idle_memory,
)
from bench.provider import ProviderProcess
from bench.report import Kind, Row, format_value, render
from bench.sdk_baseline import SdkBaseline, run_in_subprocess
from bench.stats import percentile

T = TypeVar("T")
PARTS = ("browser", "protocol", "load")
MIB = 1024 * 1024


class Results:
    """What the parts measured (``None`` where a part was skipped or failed)."""

    def __init__(self, cfg: BenchConfig) -> None:
        """Empty results for ``cfg``."""
        self.cfg = cfg
        self.sdk: SdkBaseline | None = None
        self.memory: MemoryResult | None = None
        self.memory_after: Memory | None = None
        self.history: list[HistoryBytes] | None = None
        self.browser: BrowserResult | None = None
        self.load: StreamsResult | None = None
        self.errors: dict[str, str] = {}
        self.notes: list[str] = []
        self.app_processes: list[str] = []
        self.timings: dict[str, float] = {}

    def attempt(self, name: str, fn: Callable[[], T]) -> T | None:
        """Run one part; a failure is recorded and the run goes on."""
        print(f"[bench] {name} ...", flush=True)
        start = time.monotonic()
        try:
            return fn()
        except Exception as exc:
            self.errors[name] = f"{type(exc).__name__}: {exc}"
            print(f"[bench] {name} FAILED: {exc}\n{traceback.format_exc()}", flush=True)
            return None
        finally:
            self.timings[name] = time.monotonic() - start
            print(f"[bench] {name} took {self.timings[name]:.1f} s", flush=True)


def run(cfg: BenchConfig, skip: Sequence[str] = ()) -> tuple[Results, list[Row]]:
    """Start the provider and the app, run the parts, build the table."""
    isolate_settings()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    results = Results(cfg)
    load_before = os.getloadavg()
    with ProviderProcess() as provider:
        results.sdk = results.attempt(
            "sdk baseline",
            lambda: run_in_subprocess(provider.base_url, cfg.sdk_tokens, cfg.sdk_runs),
        )
        log = OUTPUT_DIR / ("app-quick.log" if cfg.quick else "app.log")
        print("[bench] starting the app (production build) ...", flush=True)
        with bench_app(cfg, provider.base_url, log) as bench:
            results.app_processes = bench.process_names()
            _run_parts(results, bench, provider, skip)
    load_after = os.getloadavg()
    results.notes.append(
        f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, "
        f"on {os.cpu_count()} CPUs: browser, app, provider, load generator and anything "
        "else running here share them"
    )
    return results, build_rows(results)


def _run_parts(
    results: Results, bench: BenchApp, provider: ProviderProcess, skip: Sequence[str]
) -> None:
    cfg, seeded = results.cfg, bench.seeded
    if "protocol" not in skip:
        results.memory = results.attempt(
            "idle memory",
            lambda: asyncio.run(idle_memory(bench, seeded.protocol, cfg.idle_sessions)),
        )
        history_conversations = {n: seeded.conversations[("proto-fast", n)] for n in cfg.turns if n}
        results.history = results.attempt(
            "bytes by history (protocol)",
            lambda: asyncio.run(
                bytes_by_history(
                    bench,
                    provider,
                    seeded.user(seeded.history_user),
                    turns=cfg.turns,
                    conversations=history_conversations,
                    model_id=seeded.models["fast"],
                    expected_text=cfg.reply_text,
                    timeout=120,
                )
            ),
        )
    if "browser" not in skip:
        results.browser = results.attempt("browser", lambda: BrowserBench(bench, provider).run())
    if "load" not in skip:
        results.load = results.attempt(
            f"{cfg.protocol_users} protocol users streaming",
            lambda: asyncio.run(
                concurrent_streams(
                    bench,
                    provider,
                    seeded.protocol,
                    tokens=cfg.reply_tokens,
                    expected_text=cfg.reply_text,
                    timeout=cfg.ideal_stream_seconds * 6 + 120,
                )
            ),
        )
    time.sleep(2.0)
    results.memory_after = bench.memory()


# --------------------------------------------------------------------------- #
# The table
# --------------------------------------------------------------------------- #


def _by_turns(replies: Sequence[ReplyMeasure] | None, turns: int) -> ReplyMeasure | None:
    return next((r for r in replies or [] if r.turns == turns), None)


def _ms_to_s(value: float | None) -> float | None:
    return None if value is None else value / 1000


def build_rows(res: Results) -> list[Row]:
    """Every target of the issue, measured (n/a where a part did not run)."""
    cfg = res.cfg
    rows: list[Row] = []
    browser = res.browser
    per_1000 = 1000 / cfg.reply_tokens
    ideal = cfg.ideal_stream_seconds
    delay_ms = f"{cfg.token_delay * 1000:g} ms/token"
    n_tok = f"{cfg.reply_tokens}-token"

    # 1. Bytes on the wire per reply (both directions, websocket headers included).
    for n in cfg.turns:
        r = _by_turns(browser.stream if browser else None, n)
        rows.append(
            Row(
                f"1.bytes.turn{n}",
                f"1. wire bytes/reply, turn {n} ({n_tok}, {delay_ms}, browser)",
                None if r is None else r.bytes_received + r.bytes_sent,
                cfg.bytes_limit,
                "B",
                note=""
                if r is None
                else f"{r.frames_received} frames in, median {r.median_frame:.0f} B; "
                f"{r.bytes_sent} B out",
            )
        )
    for h in res.history or []:
        rows.append(
            Row(
                f"1.bytes.protocol.turn{h.turns}",
                f"   wire bytes received/reply, turn {h.turns} (full speed, protocol client)",
                h.bytes,
                cfg.bytes_limit,
                "B",
                kind="info",
                note=f"{h.frames} frames",
            )
        )

    # 2. Time until the whole reply is shown.
    for n in cfg.turns:
        r = _by_turns(browser.stream if browser else None, n)
        full_s = None if r is None else _ms_to_s(r.full_ms)
        rows.append(
            Row(
                f"2.shown.turn{n}",
                f"2. fully shown vs ideal {ideal:.1f} s, turn {n} ({delay_ms})",
                None if full_s is None else (full_s / ideal - 1) * 100,
                limits.SHOWN_OVERSHOOT_PCT,
                "%",
                note="" if full_s is None else f"{full_s:.2f} s",
            )
        )
    for n in cfg.turns:
        r = _by_turns(browser.fast if browser else None, n)
        rows.append(
            Row(
                f"2.fast.turn{n}",
                f"2. fully shown at full provider speed, turn {n}",
                None if r is None else _ms_to_s(r.full_ms),
                limits.FULL_SPEED_SHOWN_S,
                "s",
            )
        )

    # 2. The first word of a reply, from its frame's arrival in the page.
    words = [r.first_word_ms for r in browser.first_token] if browser else []
    rows.append(
        Row(
            "2.first_word.p50",
            f"2. first word in the page after its frame arrives, p50, 1 user ({len(words)})",
            _pct(words, 50),
            limits.FIRST_WORD_MS,
            "ms",
            note="" if not words else f"max {_pct(words, 100):.0f} ms",
        )
    )

    # 3. Time the app adds to the provider's first token.
    single = [r.first_overhead_ms for r in browser.first_token] if browser else []
    crowd = [r.first_overhead_ms for r in browser.crowd] if browser else []
    rows.append(
        Row(
            "3.first.p50.one",
            f"3. app-added first-token p50, 1 browser user ({len(single)} replies)",
            _pct(single, 50),
            limits.FIRST_TOKEN_P50_ONE_USER_MS,
            "ms",
        )
    )
    rows.append(
        Row(
            "3.first.p95.browsers",
            f"3. app-added first-token p95, {cfg.browser_users} browser users at once "
            f"({len(crowd)} replies)",
            _pct(crowd, 95),
            limits.FIRST_TOKEN_P95_MS,
            "ms",
        )
    )
    load = res.load
    rows.append(
        Row(
            "3.first.p95.protocol",
            f"3. app-added first-token p95, {cfg.protocol_users} protocol users at once",
            None if load is None else load.first_token_p95_ms,
            limits.FIRST_TOKEN_P95_MS,
            "ms",
        )
    )

    # 4. N concurrent streams.
    sdk = res.sdk
    rows.append(
        Row(
            "4.delivered",
            f"4. tokens delivered, {cfg.protocol_users} streams at {delay_ms}",
            None if load is None else 100 * load.tokens_delivered / load.tokens_expected,
            100.0,
            "%",
            kind="min",
            note="" if load is None else f"{load.complete_replies}/{load.users} replies whole",
        )
    )
    rows.append(
        Row(
            "4.rate",
            "4. aggregate delivery rate / provider's rate",
            None if load is None else load.delivery_pct,
            limits.DELIVERY_MIN_PCT,
            "%",
            kind="min",
            note=""
            if load is None
            else f"{load.delivered_rate_tps:,.0f} of {load.provider_rate_tps:,.0f} tok/s",
        )
    )
    rows.append(
        Row(
            "4.app_cpu",
            "4. app server CPU per 1000 tokens (limit: 3x the SDK's)",
            None if load is None else load.app_cpu_ms_per_1000,
            None if sdk is None else limits.APP_CPU_FACTOR * sdk.cpu_ms_per_1000,
            "ms",
        )
    )

    # 5. Browser CPU per reply.
    for n in cfg.turns:
        r = _by_turns(browser.stream if browser else None, n)
        cpu = None if r is None or r.browser_cpu_s is None else r.browser_cpu_s * per_1000
        note = ""
        if r is not None and r.renderer_task_s is not None:
            note = f"renderer main thread {r.renderer_task_s * per_1000:.2f} s"
        rows.append(
            Row(
                f"5.browser_cpu.turn{n}",
                f"5. browser CPU per 1000-token reply, turn {n} ({delay_ms}, all Chromium)",
                cpu,
                limits.BROWSER_CPU_PER_1000_S,
                "s",
                note=note,
            )
        )

    # 6. Opening a long conversation; memory.
    big = browser.open_big if browser else None
    rows.append(
        Row(
            "6.open_big",
            f"6. open a {cfg.big_messages}-message conversation: newest messages visible",
            None if big is None else big.click_visible_ms,
            limits.OPEN_BIG_MS,
            "ms",
            note="" if big is None else f"{big.rendered_messages} messages rendered",
        )
    )
    mem = res.memory
    rows.append(
        Row(
            "6.session_mem",
            f"6. server memory per connected idle session ({cfg.idle_sessions} sessions, RSS)",
            None if mem is None else mem.per_session_rss / 1024,
            limits.IDLE_SESSION_KB,
            "KB",
            note="" if mem is None else f"PSS {mem.per_session_pss / 1024:.0f} KB",
        )
    )
    rows.append(
        Row(
            "6.idle_mem",
            "6. whole app idle, resident (PSS of all its processes)",
            None if mem is None else mem.idle_pss / MIB,
            limits.IDLE_APP_MIB,
            "MiB",
            note="" if mem is None else f"summed RSS {mem.idle_rss / MIB:.0f} MiB",
        )
    )

    # 7. One page kept open for many turns.
    rows += long_page_rows(cfg, browser.long_page if browser else None)

    # Context.
    if sdk is not None:
        rows.append(
            Row(
                "ctx.sdk_rate",
                "   openai SDK alone: tokens/s",
                sdk.tokens_per_s,
                None,
                "tok/s",
                "info",
            )
        )
        rows.append(
            Row(
                "ctx.sdk_cpu",
                "   openai SDK alone: CPU per 1000 tokens",
                sdk.cpu_ms_per_1000,
                None,
                "ms",
                "info",
            )
        )
    if browser is not None:
        for n in cfg.turns:
            r = _by_turns(browser.stream if browser else None, n)
            if r is not None and r.first_overhead_ms is not None:
                rows.append(
                    Row(
                        f"ctx.first.turn{n}",
                        f"   app-added first token, {n_tok} reply at turn {n} (browser)",
                        r.first_overhead_ms,
                        None,
                        "ms",
                        "info",
                    )
                )
            if r is not None and r.browser_idle_cpu_per_s is not None:
                rows.append(
                    Row(
                        f"ctx.browser_idle.turn{n}",
                        f"   browser CPU idle on the page before that send (per {ideal:.0f} s)",
                        r.browser_idle_cpu_per_s * ideal,
                        None,
                        "s",
                        "info",
                    )
                )
        if browser.crowd_tokens:
            rows.append(
                Row(
                    "ctx.crowd_cpu",
                    f"   browser CPU per 1000 tokens, {cfg.browser_users} pages streaming at once",
                    browser.crowd_browser_cpu_s * 1000 / browser.crowd_tokens,
                    None,
                    "s",
                    "info",
                )
            )
        if big is not None:
            rows.append(
                Row(
                    "ctx.open_big_reload",
                    f"   reload the {cfg.big_messages}-message conversation: newest visible",
                    big.reload_visible_ms,
                    None,
                    "ms",
                    "info",
                )
            )
    if load is not None:
        rows.append(
            Row(
                "ctx.first.p50.protocol",
                f"   app-added first-token p50, {cfg.protocol_users} protocol users",
                load.first_token_p50_ms,
                None,
                "ms",
                "info",
            )
        )
        rows.append(
            Row(
                "ctx.loadgen",
                "   load generator busy (one Python process, % of one CPU)",
                load.loadgen_busy_pct,
                None,
                "%",
                "info",
            )
        )
        rows.append(
            Row(
                "ctx.bytes.protocol_load",
                f"   wire bytes received/reply, median of {cfg.protocol_users} protocol streams",
                load.bytes_per_reply_median,
                None,
                "B",
                "info",
                note=f"{load.frames_per_reply_median:.0f} frames",
            )
        )
    if res.memory_after is not None:
        rows.append(
            Row(
                "ctx.mem_after",
                "   whole app after all runs, no session connected (PSS)",
                res.memory_after.pss / MIB,
                None,
                "MiB",
                "info",
            )
        )
    return rows


def long_page_rows(cfg: BenchConfig, long_page: LongPageResult | None) -> list[Row]:
    """Target 7: on a page kept open, a reply at the last measured turn costs at most
    ``LONG_PAGE_GROWTH`` times one at turn 0 (medians of the replies measured at each)."""
    at = cfg.long_page_at
    per_1000 = 1000 / cfg.reply_tokens
    delay_ms = f"{cfg.token_delay * 1000:g} ms/token"

    def cpu(r: ReplyMeasure) -> float | None:
        return None if r.browser_cpu_s is None else r.browser_cpu_s * per_1000

    # key, what, unit, full-speed replies (else the ones at `token_delay`), value, kind
    metrics: list[tuple[str, str, str, bool, Callable[[ReplyMeasure], float | None], Kind]] = [
        ("full", "fully shown, full speed", "s", True, lambda r: _ms_to_s(r.full_ms), "max"),
        ("first", "first text after the click", "ms", True, lambda r: r.first_ms, "max"),
        ("cpu", "browser CPU per 1000-token reply, full speed", "s", True, cpu, "max"),
        ("cpu_stream", f"browser CPU per 1000-token reply, {delay_ms}", "s", False, cpu, "max"),
        ("word", f"first word after its frame, {delay_ms}", "ms", False, _first_word, "info"),
    ]
    rows: list[Row] = []
    for key, what, unit, fast, value, kind in metrics:
        replies = [] if long_page is None else (long_page.fast if fast else long_page.stream)
        by_turn = {n: _median([value(r) for r in replies if r.turns == n]) for n in at}
        first, last = by_turn[at[0]], by_turn[at[-1]]
        rows.append(
            Row(
                f"7.long.{key}",
                f"7. one page, {cfg.long_page_turns} turns: {what}, turn {at[-1]} "
                f"(limit {limits.LONG_PAGE_GROWTH:g}x turn {at[0]})",
                last,
                None if first is None or kind == "info" else limits.LONG_PAGE_GROWTH * first,
                unit,
                kind=kind,
                note=", ".join(f"turn {n}: {format_value(v, unit)}" for n, v in by_turn.items()),
            )
        )
    return rows


def _first_word(r: ReplyMeasure) -> float | None:
    return r.first_word_ms


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _pct(values: Sequence[float | None], pct: float) -> float | None:
    present = [v for v in values if v is not None]
    return percentile(present, pct) if present else None


def to_json(res: Results, rows: list[Row]) -> dict[str, Any]:
    """Everything, for ``test-output/bench/*.json``."""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "config": res.cfg.as_dict(),
        "rows": [r.as_dict() for r in rows],
        "errors": res.errors,
        "notes": res.notes,
        "timings_s": res.timings,
        "app_processes": res.app_processes,
        "sdk": None if res.sdk is None else asdict(res.sdk),
        "memory": None if res.memory is None else res.memory.as_dict(),
        "memory_after": None if res.memory_after is None else asdict(res.memory_after),
        "history": None if res.history is None else [asdict(h) for h in res.history],
        "browser": None if res.browser is None else res.browser.as_dict(),
        "load": None if res.load is None else res.load.as_dict(),
    }


def write_results(res: Results, rows: list[Row], path: Path) -> None:
    """Write the results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(res, rows), indent=2, default=str) + "\n", encoding="utf-8")


def summary_lines(res: Results) -> list[str]:
    """A few lines that explain the numbers."""
    lines = list(res.notes)
    browser = res.browser
    if browser is not None and browser.stream:
        r = browser.stream[-1]
        lines.append(
            f"turn {r.turns} reply: {r.frames_received} frames received, median "
            f"{r.median_frame:.0f} B, largest {r.largest_frame} B"
        )
        lines.append(f"  a typical frame: {r.median_frame_text[:300]}")
        lines.append(f"  the largest frame: {r.largest_frame_text[:300]}")
        if r.browser_cpu_by_kind:
            kinds = ", ".join(f"{k} {v:.2f} s" for k, v in r.browser_cpu_by_kind.items() if v)
            lines.append(f"  browser CPU by process: {kinds}")
        if r.renderer_metrics:
            metrics = ", ".join(f"{k} {v:g}" for k, v in r.renderer_metrics.items())
            lines.append(f"  renderer (DevTools metrics): {metrics}")
    if browser is not None and browser.long_page is not None:
        lines += long_page_lines(browser.long_page)
    if browser is not None and browser.first_token:
        before = _pct([r.before_provider_ms for r in browser.first_token], 50)
        after = _pct([r.after_provider_ms for r in browser.first_token], 50)
        if before is not None and after is not None:
            lines.append(
                f"first token, 1 browser user (p50): click -> request at the provider {before:.1f}"
                f" ms; provider's first token -> on the page {after:.1f} ms"
            )
    if browser is not None and browser.crowd:
        before = _pct([r.before_provider_ms for r in browser.crowd], 95)
        after = _pct([r.after_provider_ms for r in browser.crowd], 95)
        if before is not None and after is not None:
            lines.append(
                f"first token, {len(browser.crowd)} crowd replies (p95): click -> provider "
                f"{before:.0f} ms; provider's first token -> on the page {after:.0f} ms"
            )
    load = res.load
    if load is not None:
        lines.append(
            f"first token, {load.users} protocol users (p50/p95): send -> provider "
            f"{load.before_provider_p50_ms:.0f}/{load.before_provider_p95_ms:.0f} ms; provider's "
            f"first token -> client {load.after_provider_p50_ms:.0f}/"
            f"{load.after_provider_p95_ms:.0f} ms; app CPU {load.app_cpu_s:.1f} s in "
            f"{load.wall_s:.1f} s, provider CPU {load.provider_cpu_s:.1f} s"
        )
    if res.load is not None and res.load.failures:
        lines.append("incomplete protocol streams: " + "; ".join(res.load.failures[:3]))
    if res.errors:
        lines += [f"ERROR in {name}: {error}" for name, error in res.errors.items()]
    if res.sdk is not None:
        lines.append(
            f"SDK runs (tokens/s): {', '.join(f'{v:,.0f}' for v in res.sdk.all_tokens_per_s)}; "
            f"median CPU {statistics.median(res.sdk.all_cpu_ms_per_token):.3f} ms/token"
        )
    return lines


def long_page_lines(long_page: LongPageResult) -> list[str]:
    """Where a reply's browser time goes on the page kept open, by turn (DevTools metrics)."""
    lines = [f"one page, {long_page.turns} turns in {long_page.wall_s:.0f} s; per reply:"]
    for kind, replies in (("full speed", long_page.fast), ("streamed", long_page.stream)):
        for n in sorted({r.turns for r in replies}):
            at_n = [r for r in replies if r.turns == n]
            names = at_n[0].renderer_metrics.keys()
            metrics = ", ".join(
                f"{name} {_median([r.renderer_metrics.get(name) for r in at_n]) or 0:g}"
                for name in names
            )
            lines.append(f"  {kind}, turn {n}: {metrics}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, ~2 minutes")
    parser.add_argument(
        "--skip", default="", help=f"comma-separated parts to skip: {', '.join(PARTS)}"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--out", type=Path, default=None, help="results file (JSON)")
    args = parser.parse_args(argv)
    skip = [s for s in args.skip.split(",") if s]
    unknown = set(skip) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    cfg = BenchConfig.quick_run() if args.quick else BenchConfig.full()
    started = time.monotonic()
    res, rows = run(cfg, skip)
    out = args.out or OUTPUT_DIR / ("quick.json" if cfg.quick else "latest.json")
    write_results(res, rows, out)
    title = (
        f"llm-chat benchmark ({'quick' if cfg.quick else 'full'}), "
        f"{time.monotonic() - started:.0f} s, results in {out}"
    )
    print()
    print(render(rows, title))
    for line in summary_lines(res):
        print(line)
    if res.errors:
        return 1
    if args.strict and any(r.passed is False for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
