"""Usage per day, per model and per user over a range of UTC days, and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from llm_chat.errors import ForbiddenError, ValidationError
from llm_chat.models import Role
from llm_chat.services import usage_report
from llm_chat.services.usage_report import Grouping
from tests.support.factories import add_usage, make_user

DAY = date(2026, 3, 10)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


async def test_a_range_is_reported_per_day_model_and_user(app_db: Engine) -> None:
    admin = make_user(role=Role.ADMIN)
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    yesterday = DAY - timedelta(days=1)
    add_usage(
        ann.id,
        at=_at(yesterday, 23),
        model_name="gpt",
        prompt_tokens=100,
        completion_tokens=50,
        cost_nanos=1_500_000,
    )
    add_usage(
        ann.id,
        at=_at(DAY, 0),
        model_name="gpt",
        prompt_tokens=10,
        completion_tokens=5,
        cost_nanos=150_000,
        estimated=True,
    )
    add_usage(
        bob.id, at=_at(DAY, 23), model_name="qwen", prompt_tokens=1000, completion_tokens=1000
    )
    add_usage(
        bob.id, at=_at(DAY + timedelta(days=1), 0), model_name="qwen", prompt_tokens=7
    )  # after the range
    report = await usage_report.usage_report(
        actor=admin, since=yesterday - timedelta(days=1), until=DAY
    )
    assert [(r.key, r.turns, r.total_tokens, r.cost_nanos) for r in report.by_day] == [
        ("2026-03-08", 0, 0, 0),
        ("2026-03-09", 1, 150, 1_500_000),
        ("2026-03-10", 2, 2015, 150_000),
    ]
    assert [(r.key, r.turns, r.total_tokens) for r in report.by_model] == [
        ("qwen", 1, 2000),
        ("gpt", 2, 165),
    ]
    assert [(r.key, r.total_tokens, r.estimated_turns) for r in report.by_user] == [
        ("bob@example.com", 2000, 0),
        ("ann@example.com", 165, 1),
    ]
    total = report.total
    assert (total.turns, total.prompt_tokens, total.completion_tokens) == (3, 1110, 1055)
    assert total.cost == Decimal("0.00165")
    # One user's usage only.
    ann_only = await usage_report.usage_report(actor=admin, since=DAY, until=DAY, user_id=ann.id)
    assert ann_only.total.total_tokens == 15
    own = await usage_report.own_usage(user_id=bob.id, since=DAY, until=DAY)
    assert own.total.total_tokens == 2000
    assert own.by_user == []


async def test_csv_has_a_header_a_row_each_and_the_total(app_db: Engine) -> None:
    admin = make_user(role=Role.ADMIN)
    add_usage(
        admin.id,
        at=_at(DAY, 12),
        model_name="=HYPERLINK(1)",
        prompt_tokens=3,
        completion_tokens=4,
        cost_nanos=123_456_789_012,
    )
    report = await usage_report.usage_report(actor=admin, since=DAY, until=DAY)
    rows = list(csv.reader(io.StringIO(usage_report.to_csv(report, Grouping.MODEL))))
    assert rows == [
        [
            "model",
            "turns",
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cost",
            "estimated_turns",
            "currency",
        ],
        ["'=HYPERLINK(1)", "1", "3", "4", "7", "123.456789012", "0", "USD"],
        ["total", "1", "3", "4", "7", "123.456789012", "0", "USD"],
    ]
    by_day = usage_report.to_csv(report, Grouping.DAY).splitlines()
    assert by_day[1] == "2026-03-10,1,3,4,7,123.456789012,0,USD"


async def test_only_admins_see_everyone_and_ranges_are_bounded(app_db: Engine) -> None:
    user = make_user()
    with pytest.raises(ForbiddenError):
        await usage_report.usage_report(actor=user, since=DAY, until=DAY)
    for since, until in ((DAY, DAY - timedelta(days=1)), (DAY - timedelta(days=366), DAY)):
        with pytest.raises(ValidationError) as refused:
            await usage_report.own_usage(user_id=user.id, since=since, until=until)
        assert refused.value.code == "usage.invalid_range"
