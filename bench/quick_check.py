"""What ``make test`` checks of the benchmark: a quick run works, and bytes per token do not grow
with the conversation's history. No timing target is checked here (benchmarks are not tests).

The lead's test (``tests/test_bench_quick.py``) calls :func:`run_quick_check`.
"""

from __future__ import annotations

import math
from typing import Any

from bench.config import OUTPUT_DIR, BenchConfig
from bench.report import render
from bench.run import run, summary_lines, to_json, write_results

#: Growth of one reply's bytes from turn 0 to the longest history that is still "not growing":
#: a couple of frames of timing jitter (full-speed replies are sent in a few batches).
GROWTH_SLACK_BYTES = 1024
GROWTH_SLACK_FRACTION = 0.10


def run_quick_check() -> dict[str, Any]:
    """Run the quick benchmark; raise AssertionError if it did not work or bytes grow.

    Returns:
        The results (as written to ``test-output/bench/quick.json``).
    """
    res, rows = run(BenchConfig.quick_run())
    path = OUTPUT_DIR / "quick.json"
    write_results(res, rows, path)
    table = render(rows, f"quick benchmark (results in {path})")
    print(table)
    print("\n".join(summary_lines(res)))
    assert not res.errors, f"parts of the benchmark failed: {res.errors}\n{table}"
    missing = [
        r.target.strip()
        for r in rows
        if r.kind != "info" and (r.measured is None or math.isnan(r.measured))
    ]
    assert not missing, f"not measured: {missing}\n{table}"

    # Bytes per token must not grow with history (protocol client, full-speed replies).
    history = res.history or []
    assert len(history) >= 2, "the bytes-by-history run is missing"
    assert all(h.complete for h in history), (
        "a reply was not assembled whole from the streaming deltas: "
        f"{[(h.turns, h.complete) for h in history]}"
    )
    base = history[0]
    for h in history[1:]:
        allowed = base.bytes + max(GROWTH_SLACK_BYTES, GROWTH_SLACK_FRACTION * base.bytes)
        assert h.bytes <= allowed, (
            f"bytes per reply grow with history: {base.bytes} B at turn {base.turns}, "
            f"{h.bytes} B at turn {h.turns} (allowed {allowed:.0f} B)\n{table}"
        )
    return to_json(res, rows)


if __name__ == "__main__":
    run_quick_check()
