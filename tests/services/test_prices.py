"""The currency of model prices: USD until an admin sets another ISO 4217 code, audited, and
named with every usage report and CSV export."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine

from llm_chat.errors import ForbiddenError, ValidationError
from llm_chat.models import AuditTarget, Role
from llm_chat.services import audit, prices, usage_report
from llm_chat.services.access import SYSTEM
from llm_chat.services.usage_report import Grouping
from tests.support.factories import add_usage, make_user

DAY = date(2026, 3, 10)


async def test_the_currency_is_usd_until_an_admin_sets_another_and_each_change_is_audited(
    app_db: Engine,
) -> None:
    admin = make_user(role=Role.ADMIN)
    assert await prices.price_currency() == "USD"
    assert (await prices.get_price_settings(actor=admin)).currency == "USD"
    assert (await prices.set_currency(actor=admin, code=" eur ")).currency == "EUR"
    assert (await prices.set_currency(actor=admin, code="EUR")).currency == "EUR"  # no change
    assert await prices.price_currency() == "EUR"
    [entry] = (await audit.list_entries(actor=SYSTEM)).entries
    assert (entry.action, entry.target_type, entry.target_name, entry.actor_email) == (
        "setting.update",
        AuditTarget.SETTING.value,
        "prices",
        admin.email,
    )
    assert (entry.old_values, entry.new_values) == ({"currency": "USD"}, {"currency": "EUR"})


async def test_only_iso_4217_codes_and_only_admins(app_db: Engine) -> None:
    admin, user = make_user(role=Role.ADMIN), make_user()
    for code in ("", "US", "DOLLAR", "XYZ", "XAU", "usd1", "€"):
        with pytest.raises(ValidationError) as refused:
            await prices.set_currency(actor=admin, code=code)
        assert refused.value.code == "admin.invalid_currency"
    with pytest.raises(ForbiddenError):
        await prices.set_currency(actor=user, code="CNY")
    with pytest.raises(ForbiddenError):
        await prices.get_price_settings(actor=user)
    assert await prices.price_currency() == "USD"
    assert (await audit.list_entries(actor=SYSTEM)).total == 0


async def test_reports_and_their_csv_name_the_currency(app_db: Engine) -> None:
    admin = make_user(role=Role.ADMIN)
    add_usage(
        admin.id,
        at=datetime(2026, 3, 10, 12),
        model_name="gpt",
        prompt_tokens=3,
        cost_nanos=2_000_000,
    )
    await prices.set_currency(actor=admin, code="cny")
    report = await usage_report.usage_report(actor=admin, since=DAY, until=DAY)
    own = await usage_report.own_usage(user_id=admin.id, since=DAY, until=DAY)
    assert (report.currency, own.currency) == ("CNY", "CNY")
    header, row, total = usage_report.to_csv(report, Grouping.MODEL).splitlines()
    assert header.endswith(",cost,estimated_turns,currency")
    assert row == "gpt,1,3,0,3,0.002000000,0,CNY"
    assert total.endswith(",CNY")
