"""The settings page over Reflex's websocket: a new API key reaches the page once and never
enters the state; keys are listed and revoked by their owner only."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.services import api_keys
from llm_chat.state.settings import SettingsState
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_user, sign_in

KEY = re.compile(r"llmc_[A-Za-z0-9_-]{43}")


async def test_a_new_key_is_shown_once_and_can_be_revoked(
    app_db: Engine, open_tab: TabFactory
) -> None:
    user = make_user("keys@example.com")
    tab = open_tab()
    await sign_in(tab, "keys@example.com")
    await tab.navigate("/settings")
    await tab.wait_for(lambda t: t.get(SettingsState, "signed_in") is True, timeout=TIMEOUT)

    await tab.emit(SettingsState.create_key, {"form": {"name": "laptop script"}})
    await tab.wait_for(lambda t: any(KEY.search(str(e)) for e in t.frontend_events("_set_value")))
    assert tab.get(SettingsState, "show_new_key") is True
    (shown,) = [e for e in tab.frontend_events("_set_value") if KEY.search(str(e))]
    secret = KEY.search(str(shown))
    assert secret is not None
    # The key went out once, in the event that fills in the field; never as a state var.
    assert tab.wire_text.count(secret.group()) == 1
    (row,) = tab.get(SettingsState, "api_keys")
    assert (row["name"], row["prefix"], row["last_used"]) == (
        "laptop script",
        secret.group()[:12],
        "",
    )
    with session_scope() as session:
        assert api_keys.authenticate_api_key.within(session, secret=secret.group()).id == user.id

    await tab.emit(SettingsState.dismiss_new_key)
    await tab.wait_for(lambda t: t.get(SettingsState, "show_new_key") is False)

    await tab.emit(SettingsState.open_revoke, {"key_id": row["id"], "name": row["name"]})
    await tab.wait_for(lambda t: t.get(SettingsState, "revoke_id") == row["id"])
    await tab.emit(SettingsState.confirm_revoke, {"key_id": row["id"]})
    await tab.wait_for(lambda t: t.get(SettingsState, "notice_key") == "settings.revoked")
    assert tab.get(SettingsState, "api_keys") == []
    with session_scope() as session:
        assert api_keys.list_api_keys.within(session, user_id=user.id) == []


async def test_keys_belong_to_their_owner(app_db: Engine, open_tab: TabFactory) -> None:
    owner = make_user("owner@example.com")
    make_user("other@example.com")
    with session_scope() as session:
        key = api_keys.create_api_key.within(session, user_id=owner.id, name="mine").info
    tab = open_tab()
    await sign_in(tab, "other@example.com")
    await tab.navigate("/settings")
    await tab.wait_for(lambda t: t.get(SettingsState, "signed_in") is True, timeout=TIMEOUT)
    assert tab.get(SettingsState, "api_keys") == []
    await tab.emit(SettingsState.confirm_revoke, {"key_id": key.id})
    await tab.wait_for(lambda t: t.get(SettingsState, "error_key") == "settings.key_not_found")
    with session_scope() as session:
        assert [k.id for k in api_keys.list_api_keys.within(session, user_id=owner.id)] == [key.id]
    await tab.emit(SettingsState.create_key, {"form": {"name": "   "}})
    await tab.wait_for(lambda t: t.get(SettingsState, "error_key") == "settings.key_name_empty")


async def test_signed_out_visitors_are_sent_to_sign_in(
    app_db: Engine, open_tab: TabFactory
) -> None:
    tab = open_tab()
    await tab.connect("/settings")
    await tab.wait_for(lambda t: "/login" in t.visited, timeout=TIMEOUT)
    assert tab.get(SettingsState, "signed_in") is not True
