"""The benchmark suite keeps working, and bytes per reply do not grow with history.

Timing targets live in ``make bench``, never here; bytes on the wire are deterministic.
"""

from __future__ import annotations

import pytest

from bench.quick_check import run_quick_check

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_quick_benchmark_runs_and_bytes_do_not_grow_with_history() -> None:
    run_quick_check()
