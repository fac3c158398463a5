"""The currency of model prices over Reflex's websocket: set on the limits page by admins only,
named on the usage, settings and admin pages."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.services import audit, prices, users
from llm_chat.services.access import SYSTEM
from llm_chat.state.admin import AdminState
from llm_chat.state.operate import OperateState
from tests.state.conftest import TabFactory
from tests.state.helpers import make_user, sign_in


async def test_a_user_cannot_set_the_currency(app_db: Engine, open_tab: TabFactory) -> None:
    make_user("mallory@example.com")
    tab = open_tab()
    await sign_in(tab, "mallory@example.com")
    await tab.call(
        OperateState.save_currency,
        {"form": {"currency": "EUR"}},
        until=lambda t: (
            (t.get(OperateState, "limits") or {}).get("error_key") == "admin.only_admins"
        ),
    )
    assert await prices.price_currency() == "USD"
    assert (await audit.list_entries(actor=SYSTEM)).total == 0


async def test_an_admin_sets_the_currency_and_the_pages_name_it(
    app_db: Engine, open_tab: TabFactory
) -> None:
    make_user("root@example.com")
    with session_scope() as session:
        users.set_role.within(session, email="root@example.com", role=Role.ADMIN)
    admin = open_tab()
    await sign_in(admin, "root@example.com")
    await admin.navigate("/admin")
    assert admin.get(AdminState, "currency") == "USD"
    await admin.navigate("/admin/limits")
    assert admin.get(OperateState, "limits")["currency"] == "USD"
    await admin.call(
        OperateState.save_currency,
        {"form": {"currency": "dollars"}},
        until=lambda t: t.get(OperateState, "limits")["error_key"] == "admin.invalid_currency",
    )
    await admin.call(
        OperateState.save_currency,
        {"form": {"currency": "eur"}},
        until=lambda t: t.get(OperateState, "limits")["currency"] == "EUR",
    )
    assert admin.get(OperateState, "limits")["notice_key"] == "admin.saved"
    await admin.navigate("/admin/usage")
    assert admin.get(OperateState, "usage")["currency"] == "EUR"
    await admin.navigate("/settings")
    await admin.wait_for(lambda t: (t.get(OperateState, "mine") or {}).get("currency") == "EUR")
    await admin.navigate("/admin")
    assert admin.get(AdminState, "currency") == "EUR"
    [entry] = (await audit.list_entries(actor=SYSTEM)).entries
    assert (entry.target_name, entry.new_values) == ("prices", {"currency": "EUR"})
