"""``GET /api/usage``: the caller's own tokens and cost."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from llm_chat.api.deps import CurrentUser
from llm_chat.api.schemas import error_responses
from llm_chat.api.usage_schemas import UsageOut
from llm_chat.models.base import utcnow
from llm_chat.services import usage_report
from llm_chat.services.usage_report import Grouping, UsageReport, to_csv

# A report without a range covers this many days, today (UTC) the last.
DEFAULT_DAYS = 30

router = APIRouter(prefix="/api/usage", tags=["usage"], responses=error_responses(401, 403, 422))
Since = Annotated[date | None, Query(description="First UTC day (default: 29 days before until)")]
Until = Annotated[date | None, Query(description="Last UTC day, included (default: today)")]


def date_range(since: date | None, until: date | None) -> tuple[date, date]:
    """The days a report covers: as asked, else the last :data:`DEFAULT_DAYS` to ``until``."""
    last = until or utcnow().date()
    return since or last - timedelta(days=DEFAULT_DAYS - 1), last


def csv_response(report: UsageReport, grouping: Grouping) -> Response:
    """One grouping of ``report`` as a CSV download."""
    name = f"usage-{grouping.value}-{report.since.isoformat()}-{report.until.isoformat()}.csv"
    return Response(
        to_csv(report, grouping),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("")
async def get_own_usage(user: CurrentUser, since: Since = None, until: Until = None) -> UsageOut:
    """Your tokens and cost per day and per model, over whole UTC days (by default the last
    30 days)."""
    first, last = date_range(since, until)
    return UsageOut.of(await usage_report.own_usage(user_id=user.id, since=first, until=last))
