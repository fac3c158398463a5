"""Usage over a range of days: per day, per model and per user, and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.db import transaction
from llm_chat.errors import ValidationError
from llm_chat.models import UsageRecord, User
from llm_chat.services.access import require_admin
from llm_chat.services.prices import DEFAULT_CURRENCY, currency
from llm_chat.services.usage import nanos_to_units
from llm_chat.services.users import UserInfo

# The longest range a report covers (a year, leap day included).
MAX_DAYS = 366


class Grouping(StrEnum):
    """What a report's rows are."""

    DAY = "day"
    MODEL = "model"
    USER = "user"


@dataclass(frozen=True)
class UsageRow:
    """The turns of one day, model or user."""

    # The day (YYYY-MM-DD), the model's name, or the user's email.
    key: str
    turns: int
    prompt_tokens: int
    completion_tokens: int
    cost_nanos: int
    # Turns whose tokens the app estimated (the provider reported none).
    estimated_turns: int

    @property
    def total_tokens(self) -> int:
        """Prompt and completion together."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> Decimal:
        """The cost in the prices' currency (turns of models without prices count 0)."""
        return nanos_to_units(self.cost_nanos)


@dataclass(frozen=True)
class UsageReport:
    """Usage from ``since`` to ``until`` (whole UTC days, both included)."""

    since: date
    until: date
    # Every day of the range, oldest first (days without turns too).
    by_day: list[UsageRow]
    # Most tokens first.
    by_model: list[UsageRow]
    # Most tokens first; empty in a user's own report.
    by_user: list[UsageRow]
    total: UsageRow
    # The ISO 4217 code of the costs (the prices' currency).
    currency: str = DEFAULT_CURRENCY

    def rows(self, grouping: Grouping) -> list[UsageRow]:
        """The rows of one grouping."""
        return {
            Grouping.DAY: self.by_day,
            Grouping.MODEL: self.by_model,
            Grouping.USER: self.by_user,
        }[grouping]


_USAGE = UsageRecord.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
_USERS = User.__table__  # type: ignore[attr-defined]
_FIGURES = (
    sa.func.count(),
    sa.func.coalesce(sa.func.sum(_USAGE.c.prompt_tokens), 0),
    sa.func.coalesce(sa.func.sum(_USAGE.c.completion_tokens), 0),
    sa.func.coalesce(sa.func.sum(_USAGE.c.cost_nanos), 0),
    sa.func.coalesce(sa.func.sum(sa.case((_USAGE.c.estimated, 1), else_=0)), 0),
)


def check_range(since: date, until: date) -> tuple[datetime, datetime]:
    """The range as stored times: from midnight UTC of ``since`` to the end of ``until``.

    Raises:
        ValidationError: ``usage.invalid_range`` (``until`` before ``since``, or more than
            :data:`MAX_DAYS` days).
    """
    if until < since or (until - since).days + 1 > MAX_DAYS:
        raise ValidationError("usage.invalid_range")
    return datetime.combine(since, time()), datetime.combine(until + timedelta(days=1), time())


def _row(key: object, figures: Sequence[object]) -> UsageRow:
    turns, prompt, completion, cost, estimated = (int(Decimal(str(v or 0))) for v in figures)
    return UsageRow(str(key), turns, prompt, completion, cost, estimated)


def _grouped(
    session: Session,
    key: sa.ColumnElement[object],
    where: list[sa.ColumnElement[bool]],
    *,
    join_users: bool = False,
) -> list[UsageRow]:
    query = sa.select(key, *_FIGURES).where(*where).group_by(key)
    if join_users:
        query = query.join_from(_USAGE, _USERS, _USERS.c.id == _USAGE.c.user_id)
    rows = session.connection().execute(query).all()
    return [_row(row[0], tuple(row)[1:]) for row in rows]


def _by_tokens(rows: list[UsageRow]) -> list[UsageRow]:
    return sorted(rows, key=lambda r: (-r.total_tokens, r.key))


def _report(
    session: Session, since: date, until: date, user_id: int | None, per_user: bool
) -> UsageReport:
    start, end = check_range(since, until)
    where = [_USAGE.c.created_at >= start, _USAGE.c.created_at < end]
    if user_id is not None:
        where.append(_USAGE.c.user_id == user_id)
    # SQLite's date() gives text, MySQL's DATE() a date: both read as YYYY-MM-DD.
    days = {str(r.key)[:10]: r for r in _grouped(session, sa.func.date(_USAGE.c.created_at), where)}
    every_day = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    empty = (0, 0, 0, 0, 0)
    by_day = [days.get(d.isoformat()) or _row(d.isoformat(), empty) for d in every_day]
    total = session.connection().execute(sa.select(*_FIGURES).where(*where)).one()
    return UsageReport(
        since=since,
        until=until,
        by_day=by_day,
        by_model=_by_tokens(_grouped(session, _USAGE.c.model_name, where)),
        by_user=(
            _by_tokens(_grouped(session, _USERS.c.email, where, join_users=True))
            if per_user
            else []
        ),
        total=_row("total", tuple(total)),
        currency=currency(session),
    )


@transaction
def usage_report(
    session: Session, *, actor: UserInfo, since: date, until: date, user_id: int | None = None
) -> UsageReport:
    """Everyone's usage (or one user's) from ``since`` to ``until``, UTC days included.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``usage.invalid_range``.
    """
    require_admin(session, actor)
    return _report(session, since, until, user_id, per_user=True)


@transaction
def own_usage(session: Session, *, user_id: int, since: date, until: date) -> UsageReport:
    """The user's own usage from ``since`` to ``until`` (no per-user rows).

    Raises:
        ValidationError: ``usage.invalid_range``.
    """
    return _report(session, since, until, user_id, per_user=False)


CSV_COLUMNS = (
    "turns",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "estimated_turns",
    "currency",
)


def to_csv(report: UsageReport, grouping: Grouping) -> str:
    """One grouping of the report as CSV (a header, then a row each, then the total); each
    row names the currency of its cost."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([grouping.value, *CSV_COLUMNS])
    for row in [*report.rows(grouping), report.total]:
        writer.writerow(
            [
                _csv_safe(row.key),
                row.turns,
                row.prompt_tokens,
                row.completion_tokens,
                row.total_tokens,
                f"{row.cost:.9f}",
                row.estimated_turns,
                report.currency,
            ]
        )
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (an email or model name may start
    with ``=``, ``+``, ``-`` or ``@``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
