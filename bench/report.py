"""The results table: each target of the issue with the measured value and its ratio to the limit.

``ratio`` is measured/limit for a maximum and limit/measured for a minimum, so a ratio of at
most 1.00 always passes and lower is always better. Rows without a limit are context.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["max", "min", "info"]


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    key: str
    target: str
    measured: float | None
    limit: float | None
    unit: str
    kind: Kind = "max"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured/limit (max) or limit/measured (min); None without both numbers."""
        if self.kind == "info" or self.limit is None or not _number(self.measured):
            return None
        assert self.measured is not None
        if self.kind == "max":
            return self.measured / self.limit if self.limit else math.inf
        return self.limit / self.measured if self.measured > 0 else math.inf

    @property
    def passed(self) -> bool | None:
        """Whether the target is met (None for context rows)."""
        if self.kind == "info":
            return None
        ratio = self.ratio
        return ratio is not None and ratio <= 1.0

    def as_dict(self) -> dict[str, Any]:
        """For the results file."""
        return {**asdict(self), "ratio": self.ratio, "passed": self.passed}


def _number(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def format_value(value: float | None, unit: str) -> str:
    """``value`` in ``unit`` as the table shows it."""
    if not _number(value):
        return "n/a"
    assert value is not None
    if math.isinf(value):
        return "inf"
    if unit == "B":
        return f"{value / 1024:,.1f} KB" if abs(value) >= 1024 else f"{value:,.0f} B"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit in {"tok/s"}:
        return f"{value:,.0f} {unit}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}".rstrip()
    if abs(value) >= 10:
        return f"{value:,.1f} {unit}".rstrip()
    return f"{value:,.2f} {unit}".rstrip()


def _limit_text(row: Row) -> str:
    if row.kind == "info" or row.limit is None:
        return ""
    sign = "<=" if row.kind == "max" else ">="
    return f"{sign} {format_value(row.limit, row.unit)}"


def render(rows: Sequence[Row], title: str = "") -> str:
    """The table as text."""
    header = ("target", "measured", "limit", "ratio", "result", "detail")
    lines: list[tuple[str, str, str, str, str, str]] = []
    for row in rows:
        ratio = row.ratio
        result = {True: "PASS", False: "FAIL", None: ""}[row.passed]
        lines.append(
            (
                row.target,
                format_value(row.measured, row.unit),
                _limit_text(row),
                "" if ratio is None else ("inf" if math.isinf(ratio) else f"{ratio:.2f}"),
                result,
                row.note,
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    out = [title] if title else []
    out += [fmt(header), fmt(["-" * w for w in widths])]
    out += [fmt(line) for line in lines]
    targets = [r for r in rows if r.kind != "info"]
    passed = sum(1 for r in targets if r.passed)
    out.append(f"{passed}/{len(targets)} targets met (ratio = measured/limit, <= 1.00 passes)")
    return "\n".join(out)
