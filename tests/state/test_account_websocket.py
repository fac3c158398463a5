"""The settings page's account section over the websocket: name, password, other sessions."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from llm_chat.state.account import PASSWORD_FIELDS, AccountState
from llm_chat.state.auth import AuthState
from llm_chat.state.chat import ChatState
from tests.state.conftest import TabFactory
from tests.state.helpers import PASSWORD, TIMEOUT, make_user, sign_in
from tests.support.reflex_server import ReflexClient

NEW_PASSWORD = "Lantern-quay-77"


def token(tab: ReflexClient) -> str:
    return str(tab.get(AuthState, "auth_token"))


async def stays_in(tab: ReflexClient) -> bool:
    """Whether the tab's next event is still answered as signed in (else it is sent to
    sign in, and goes)."""
    since = len(tab.visited)
    await tab.navigate("/")
    if tab.get(AuthState, "signed_in") is True:
        return True
    await tab.wait_for(lambda t: "/login" in t.visited[since:], timeout=TIMEOUT)
    return False


async def test_a_user_renames_themselves(app_db: Engine, open_tab: TabFactory) -> None:
    make_user("nia@example.com")
    tab = open_tab()
    await sign_in(tab, "nia@example.com")
    await tab.navigate("/settings")
    await tab.call(
        AccountState.save_profile,
        {"form": {"display_name": "  Nia   Okafor "}},
        until=lambda t: t.get(AccountState, "profile_notice") != "",
    )
    assert tab.get(AuthState, "user_name") == "Nia Okafor"
    await tab.call(
        AccountState.save_profile,
        {"form": {"display_name": " "}},
        until=lambda t: t.get(AccountState, "profile_error") != "",
    )
    assert tab.get(AccountState, "profile_error") == "auth.name_empty"
    assert tab.get(AuthState, "user_name") == "Nia Okafor"


async def test_a_new_password_signs_out_every_other_session_but_this_tab(
    app_db: Engine, open_tab: TabFactory
) -> None:
    make_user("oto@example.com")
    here, elsewhere = open_tab(), open_tab()
    await sign_in(here, "oto@example.com")
    await sign_in(elsewhere, "oto@example.com")
    await here.navigate("/settings")

    await here.call(
        AccountState.change_password,
        {
            "form": {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": "x",
            }
        },
        until=lambda t: t.get(AccountState, "security_error") != "",
    )
    assert here.get(AccountState, "security_error") == "auth.password_mismatch"
    await here.call(
        AccountState.change_password,
        {
            "form": {
                "current_password": "wrong",
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            }
        },
        until=lambda t: t.get(AccountState, "security_error") == "auth.wrong_password",
    )
    assert await stays_in(elsewhere)

    before = token(here)
    await here.navigate("/settings")
    await here.call(
        AccountState.change_password,
        {
            "form": {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            }
        },
        until=lambda t: t.get(AccountState, "security_notice") != "",
    )
    assert here.get(AccountState, "security_notice") == "account.password_changed"
    assert token(here) not in ("", before)
    # The fields are emptied, so no password stays in the page.
    await here.wait_for(lambda t: len(t.frontend_events("_set_value")) >= 3, timeout=TIMEOUT)
    emptied = here.frontend_events("_set_value")[-3:]
    assert [(e["payload"]["ref"], e["payload"]["value"]) for e in emptied] == [
        (f"ref_{field.replace('-', '_')}", "") for field in PASSWORD_FIELDS
    ]
    assert await stays_in(here)
    assert not await stays_in(elsewhere)

    # The new password signs in; sending works in the tab that changed it.
    again = open_tab()
    await sign_in(again, "oto@example.com", NEW_PASSWORD)
    assert here.get(ChatState, "error_key") in ("", None)


async def test_signing_out_other_sessions_keeps_this_tab(
    app_db: Engine, open_tab: TabFactory
) -> None:
    make_user("pia@example.com")
    here, elsewhere = open_tab(), open_tab()
    await sign_in(here, "pia@example.com")
    await sign_in(elsewhere, "pia@example.com")
    await here.navigate("/settings")
    before = token(here)
    await here.call(
        AccountState.sign_out_others,
        until=lambda t: t.get(AccountState, "security_notice") == "account.others_signed_out",
    )
    assert token(here) not in ("", before)
    assert await stays_in(here)
    assert not await stays_in(elsewhere)
