"""Usage rows as the pages show them (charts want numbers, tables want text)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from llm_chat.models.base import utcnow
from llm_chat.services.usage_report import UsageRow

# A range the pages open with: the last 30 days, today (UTC) the last.
DEFAULT_DAYS = 30


@dataclasses.dataclass
class UsageItem:
    """One day, model or user: its figures, and its cost as a number and as text."""

    key: str
    turns: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    # The cost as a number (charts) and with 4 decimals, or more for small amounts (tables).
    cost: float
    cost_text: str
    estimated_turns: int

    @classmethod
    def of(cls, row: UsageRow) -> UsageItem:
        """A report's row."""
        return cls(
            key=row.key,
            turns=row.turns,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            total_tokens=row.total_tokens,
            cost=float(row.cost),
            cost_text=cost_text(row.cost_nanos),
            estimated_turns=row.estimated_turns,
        )


def cost_text(nanos: int) -> str:
    """A cost for people: 4 decimals, 6 below a hundredth, "0" for nothing."""
    if not nanos:
        return "0"
    units = nanos / 1_000_000_000
    return f"{units:,.4f}" if units >= 0.01 else f"{units:.6f}"


def default_range() -> tuple[date, date]:
    """The last :data:`DEFAULT_DAYS` days (UTC), first and last."""
    today = utcnow().date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def parse_day(text: str) -> date | None:
    """An ISO date from a date input, or None."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None
