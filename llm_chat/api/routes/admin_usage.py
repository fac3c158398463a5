"""``/api/admin/limits``, ``/api/admin/usage`` and ``/api/admin/prices``: limits, usage and
the currency of prices, for admins only.

The same services as the admin pages: each call checks the caller's role in the database and
refuses anyone else with 403, before anything changes. Every change is audited.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import Response

from llm_chat.api.admin_router import admin_router
from llm_chat.api.deps import CurrentUser
from llm_chat.api.routes.usage import Since, Until, csv_response, date_range
from llm_chat.api.schemas import MAX_ID, ErrorOut, error_responses
from llm_chat.api.usage_schemas import (
    LimitSettingsOut,
    PricesIn,
    PricesOut,
    UsageOut,
    UserLimitsIn,
    UserLimitsOut,
)
from llm_chat.models import Role
from llm_chat.services import limit_admin, prices, usage_report
from llm_chat.services.limits import RoleLimits
from llm_chat.services.usage_report import Grouping

router = admin_router()
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such user"}
}
BODY = error_responses(400, 413)


class Format(StrEnum):
    """How a report is answered."""

    JSON = "json"
    CSV = "csv"


@router.get("/limits")
async def get_limits(user: CurrentUser) -> LimitSettingsOut:
    """Each role's default limits."""
    return LimitSettingsOut.of(await limit_admin.get_limit_settings(actor=user))


@router.put("/limits/roles/{role}", responses=BODY)
async def set_role_limits(role: Role, body: RoleLimits, user: CurrentUser) -> RoleLimits:
    """Set the default limits of a role's users (0: none; ``concurrent_streams`` null: the
    server's ``LLM_CHAT_MAX_STREAMS_PER_USER``)."""
    return await limit_admin.set_role_limits(actor=user, role=role.value, limits=body)


@router.get("/limits/users/{user_id}", responses=NOT_FOUND)
async def get_user_limits(user_id: UserId, user: CurrentUser) -> UserLimitsOut:
    """A user's own limits and the limits that apply to them."""
    return UserLimitsOut.of(await limit_admin.get_user_limits(actor=user, user_id=user_id))


@router.put("/limits/users/{user_id}", responses={**NOT_FOUND, **BODY})
async def set_user_limits(user_id: UserId, body: UserLimitsIn, user: CurrentUser) -> UserLimitsOut:
    """Set a user's own limits (null: the role's; all null removes them)."""
    view = await limit_admin.set_user_limits(actor=user, user_id=user_id, limits=body.limits())
    return UserLimitsOut.of(view)


@router.get(
    "/usage",
    response_model=UsageOut,
    responses={
        200: {
            "description": "The report; with `format=csv`, one grouping as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def get_usage(
    user: CurrentUser,
    since: Since = None,
    until: Until = None,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="One user's")] = None,
    format: Annotated[Format, Query(description="`csv`: one grouping as CSV")] = Format.JSON,
    group: Annotated[Grouping, Query(description="The grouping a CSV holds")] = Grouping.DAY,
) -> UsageOut | Response:
    """Tokens and cost of every user's turns (or one user's) per day, model and user, over
    whole UTC days (by default the last 30 days)."""
    first, last = date_range(since, until)
    report = await usage_report.usage_report(actor=user, since=first, until=last, user_id=user_id)
    if format == Format.CSV:
        return csv_response(report, group)
    return UsageOut.of(report)


@router.get("/prices")
async def get_prices(user: CurrentUser) -> PricesOut:
    """The currency of the models' prices (and of every cost)."""
    return PricesOut.of(await prices.get_price_settings(actor=user))


@router.put("/prices", responses=BODY)
async def set_prices(body: PricesIn, user: CurrentUser) -> PricesOut:
    """Set the currency of the models' prices: an ISO 4217 code (any case). Converts nothing:
    it says what the prices and the costs already recorded are in."""
    return PricesOut.of(await prices.set_currency(actor=user, code=body.currency))
