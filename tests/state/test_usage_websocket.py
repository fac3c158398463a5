"""The limits and usage pages over Reflex's websocket: only admins read or change anything;
the user's own usage on the settings page."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.models.base import utcnow
from llm_chat.services import audit, limits, users
from llm_chat.services.access import SYSTEM
from llm_chat.services.limits import Limits
from llm_chat.state.operate import OperateState
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_user, sign_in
from tests.support.factories import add_usage, set_user_limits
from tests.support.reflex_server import ReflexClient


def _limits(user_id: int, role: str = "user") -> Limits:
    with session_scope() as session:
        return limits.limits_for(session, user_id=user_id, role=role)


def _part(tab: ReflexClient, name: str) -> dict[str, Any]:
    """A page part of OperateState as the browser holds it ({} while None)."""
    return tab.get(OperateState, name) or {}


async def test_a_user_cannot_use_the_limits_or_usage_handlers(
    app_db: Engine, open_tab: TabFactory
) -> None:
    mallory = make_user("mallory@example.com")
    add_usage(mallory.id, at=utcnow(), model_name="secret-model", prompt_tokens=5)
    tab = open_tab()
    await sign_in(tab, "mallory@example.com")
    for page in ("/admin/usage", "/admin/limits"):
        since = len(tab.visited)
        await tab.navigate(page)
        await tab.wait_redirected("/", since=since, timeout=TIMEOUT)

    # Handlers are public endpoints: calling them directly changes and shows nothing.
    await tab.emit(
        OperateState.show_range, {"form": {"since": "2020-01-01", "until": "2020-01-31"}}
    )
    await tab.wait_for(lambda t: _part(t, "usage").get("error_key") == "admin.only_admins")
    await tab.emit(OperateState.download_csv)
    await tab.emit(
        OperateState.save_role,
        {"form": {"role": "user", "messages_per_minute": "1", "tokens_per_day": "1"}},
    )
    await tab.wait_for(lambda t: _part(t, "limits").get("error_key") == "admin.only_admins")
    await tab.call(
        OperateState.open_user,
        {"form": {"user_id": str(mallory.id)}},
        until=lambda t: t.idle,
    )
    await tab.emit(OperateState.save_user, {"form": {"concurrent_streams": "999"}})
    await tab.call(OperateState.close_user, until=lambda t: t.idle)
    assert tab.frontend_events("_download") == []
    assert "secret-model" not in tab.wire_text
    assert _part(tab, "usage").get("rows") == []
    assert tab.get(OperateState, "dialog") is None
    assert _limits(mallory.id) == Limits(0, 0, 4)
    assert (await audit.list_entries(actor=SYSTEM)).total == 0


async def _admin_tab(open_tab: TabFactory, email: str) -> ReflexClient:
    make_user(email)
    with session_scope() as session:
        users.set_role.within(session, email=email, role=Role.ADMIN)
    tab = open_tab()
    await sign_in(tab, email)
    return tab


async def test_an_admin_sets_role_and_user_limits(app_db: Engine, open_tab: TabFactory) -> None:
    ursula = make_user("ursula@example.com")
    tab = await _admin_tab(open_tab, "root@example.com")
    await tab.navigate("/admin/limits")
    page = _part(tab, "limits")
    assert [r["role"] for r in page["roles"]] == ["admin", "user"]
    assert page["fallback_streams"] == 4
    await tab.call(
        OperateState.save_role,
        {
            "form": {
                "role": "user",
                "messages_per_minute": "12",
                "tokens_per_day": "50,000",
                "concurrent_streams": "",
            }
        },
        until=lambda t: _part(t, "limits").get("notice_key") == "admin.saved",
    )
    assert _limits(ursula.id) == Limits(12, 50_000, 4)
    await tab.call(
        OperateState.open_user,
        {"form": {"user_id": str(ursula.id)}},
        until=lambda t: _part(t, "dialog").get("email") == "ursula@example.com",
    )
    assert _part(tab, "dialog")["effective"]["tokens_per_day"] == "50000"
    await tab.call(
        OperateState.save_user,
        {"form": {"messages_per_minute": "0", "tokens_per_day": "", "concurrent_streams": "1"}},
        until=lambda t: _part(t, "dialog").get("own", {}).get("concurrent_streams") == "1",
    )
    assert _limits(ursula.id) == Limits(0, 50_000, 1)
    await tab.call(
        OperateState.save_user,
        {"form": {"messages_per_minute": "lots"}},
        until=lambda t: _part(t, "dialog").get("error_key") == "admin.invalid_limit",
    )
    actions = [e.action for e in (await audit.list_entries(actor=SYSTEM)).entries]
    assert actions == ["user.limits", "setting.update"]


async def test_an_admin_reads_usage_and_downloads_it(app_db: Engine, open_tab: TabFactory) -> None:
    ann = make_user("ann@example.com")
    today = utcnow()
    add_usage(
        ann.id,
        at=today,
        model_name="gpt",
        prompt_tokens=300,
        completion_tokens=20,
        cost_nanos=2_500_000,
    )
    add_usage(ann.id, at=today - timedelta(days=3), model_name="qwen", prompt_tokens=10)
    tab = await _admin_tab(open_tab, "root@example.com")
    await tab.navigate("/admin/usage")
    page = _part(tab, "usage")
    assert len(page["rows"]) == 30
    assert page["rows"][-1]["total_tokens"] == 320
    assert page["total"]["cost_text"] == "0.002500"
    await tab.call(
        OperateState.pick_grouping,
        {"grouping": "user"},
        until=lambda t: [r["key"] for r in _part(t, "usage")["rows"]] == ["ann@example.com"],
    )
    await tab.call(OperateState.download_csv, until=lambda t: bool(t.frontend_events("_download")))
    [download] = tab.frontend_events("_download")
    assert download["payload"]["filename"].startswith("usage-user-")
    url = download["payload"]["url"]
    assert url.startswith("data:text/csv;base64,")
    text = base64.b64decode(url.split(",", 1)[1]).decode()
    assert text.splitlines()[1] == "ann@example.com,2,310,20,330,0.002500000,0,USD"
    await tab.call(
        OperateState.show_range,
        {"form": {"since": today.date().isoformat(), "until": "2001-01-01"}},
        until=lambda t: _part(t, "usage").get("error_key") == "usage.invalid_range",
    )


async def test_the_settings_page_shows_one_s_own_usage_and_limits(
    app_db: Engine, open_tab: TabFactory
) -> None:
    ann = make_user("ann@example.com")
    bob = make_user("bob@example.com")
    set_user_limits(ann.id, tokens_per_day=1000)
    add_usage(ann.id, at=utcnow(), model_name="gpt", prompt_tokens=300, completion_tokens=20)
    add_usage(bob.id, at=utcnow(), model_name="bob-model", prompt_tokens=7)
    tab = open_tab()
    await sign_in(tab, "ann@example.com")
    await tab.navigate("/settings")
    await tab.wait_for(lambda t: bool(_part(t, "mine")))
    mine = _part(tab, "mine")
    assert (mine["tokens_today"], mine["tokens_per_day"]) == (320, 1000)
    assert [m["key"] for m in mine["by_model"]] == ["gpt"]
    assert "bob-model" not in tab.wire_text
