"""Signing out leaves nothing of the user in the tab: not in the state on the server, not in
what a reload of the tab is sent."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.state import BaseState, State
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.services import api_keys, catalog, turns, users
from llm_chat.services.access import SYSTEM
from llm_chat.state.admin import AdminState
from llm_chat.state.auth import AuthState
from llm_chat.state.chat import ChatState
from llm_chat.state.locale import LocaleState
from llm_chat.state.settings import SettingsState
from llm_chat.state.stream import StreamState
from tests.fake_provider import FakeProvider
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_model, make_provider, make_user, send, sign_in
from tests.support.factories import save_turns
from tests.support.reflex_server import ReflexClient, ReflexServer

# What the user saw, each kind of it: a conversation's title and messages, a model and a
# provider (the picker, and each reply's "written by"), an API key, a provider's base URL.
CANARIES = {
    "title": "canary question Q9",
    "reply": "canary reply R9",
    "live question": "canary live L9",
    "model": "Canary Model M9",
    "provider": "Canary Provider P9",
    "key": "canary key K9",
    "base URL": "https://canary-base-u9.example/v1",
}
# Vars that are not the user's: Reflex's own (the route, hydration), and the language.
NOT_THE_USERS = {"router_data", "is_hydrated", "_reflex_internal_links", "language"}


def seen(text: str) -> list[str]:
    """The canaries in ``text``."""
    return [name for name, canary in CANARIES.items() if canary in text]


def server_side_leftovers(server: ReflexServer, tab: ReflexClient) -> dict[str, Any]:
    """Every var of the tab's states on the server, backend-only ones too, that does not
    hold its default (apart from Reflex's own and the language)."""
    from llm_chat.llm_chat import app

    root: BaseState = server.run(
        app.state_manager.get_state(rx.BaseStateToken(ident=tab.token, cls=State))
    )
    leftovers: dict[str, Any] = {}
    pending = [root]
    while pending:
        state = pending.pop()
        pending.extend(state.substates.values())
        parent = type(state).get_parent_state()
        inherited = parent.get_fields() if parent is not None else {}
        for name, field in type(state).get_fields().items():
            if name in inherited or name in NOT_THE_USERS or name.startswith("rx_router"):
                continue
            value = getattr(state, name)
            if value != field.default_value():
                leftovers[f"{type(state).__name__}.{name}"] = value
    return leftovers


async def reload(tab: ReflexClient, open_tab: TabFactory, path: str) -> ReflexClient:
    """Reload ``tab`` at ``path``: the same tab token and storage, a new connection."""
    await tab.close()
    reloaded = open_tab(local_storage=tab.local_storage)
    reloaded.token = tab.token
    await reloaded.connect(path)
    return reloaded


async def test_sign_out_clears_the_tab(
    app_db: Engine,
    provider: FakeProvider,
    open_tab: TabFactory,
    reflex_server: ReflexServer,
) -> None:
    user = make_user("kim@example.com")
    with session_scope() as session:
        users.set_role.within(session, email="kim@example.com", role=Role.ADMIN)
        api_keys.create_api_key.within(session, user_id=user.id, name=CANARIES["key"])
        catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name="Unused",
            kind="openai",
            base_url=CANARIES["base URL"],
            api_key="sk-unused",
        )
    model_id = make_model(
        make_provider(provider, name=CANARIES["provider"]),
        "fake?tokens=5",
        display_name=CANARIES["model"],
    )
    conversation_id = save_turns(user.id, model_id, [(CANARIES["title"], CANARIES["reply"])])

    tab = open_tab()
    await sign_in(tab, "kim@example.com")
    await tab.call(
        LocaleState.set_language,
        {"language": "zh-CN"},
        until=lambda t: t.local_storage.get("llm_chat_language") == "zh-CN",
    )
    await tab.navigate(f"/c/{conversation_id}")
    await send(tab, CANARIES["live question"])
    await tab.navigate("/settings")
    await tab.wait_for(lambda t: t.get(SettingsState, "api_keys"), timeout=TIMEOUT)
    await tab.navigate("/admin")
    await tab.wait_for(lambda t: len(t.get(AdminState, "providers") or []) == 2, timeout=TIMEOUT)
    assert seen(tab.wire_text) == list(CANARIES)  # the test shows what it means to

    mark, since = len(tab.frames), len(tab.visited)
    await tab.emit(AuthState.sign_out)
    await tab.wait_redirected("/login", since=since, timeout=TIMEOUT)
    assert seen("\n".join(f.text for f in tab.frames[mark:])) == []
    assert server_side_leftovers(reflex_server, tab) == {}

    # A reload of the tab is sent nothing of it either; the language stays.
    reloaded = await reload(tab, open_tab, "/login")
    assert seen(reloaded.wire_text) == []
    assert reloaded.get(AuthState, "signed_in") is False
    assert reloaded.get(LocaleState, "language") == "zh-CN"


async def test_a_revoked_session_is_cleared_at_its_next_event(
    app_db: Engine,
    provider: FakeProvider,
    open_tab: TabFactory,
    reflex_server: ReflexServer,
) -> None:
    user = make_user("lee@example.com")
    model_id = make_model(make_provider(provider), "fake?tokens=5")
    save_turns(user.id, model_id, [(CANARIES["title"], CANARIES["reply"])])
    tab = open_tab()
    await sign_in(tab, "lee@example.com")
    assert seen(tab.wire_text) == ["title"]

    # Signed out elsewhere (another tab of the browser, or another device).
    other = open_tab(local_storage=dict(tab.local_storage))
    await other.connect("/")
    await other.emit(AuthState.sign_out)
    await other.wait_for(lambda t: "/login" in t.visited and t.idle, timeout=TIMEOUT)

    since = len(tab.visited)
    await tab.emit(ChatState.load_older)
    await tab.wait_redirected("/login", since=since, timeout=TIMEOUT)
    # Only the token the browser stored stays (signing out clears it; a tab that finds it
    # revoked leaves it: another tab of the browser may have stored a fresh one since).
    assert list(server_side_leftovers(reflex_server, tab)) == ["AuthState.auth_token"]
    reloaded = await reload(tab, open_tab, "/login")
    assert seen(reloaded.wire_text) == []


async def test_sign_out_during_a_reply_stops_showing_it(
    app_db: Engine,
    provider: FakeProvider,
    open_tab: TabFactory,
    reflex_server: ReflexServer,
) -> None:
    make_user("mo@example.com")
    make_model(make_provider(provider), "fake?tokens=400&delay=0.01")
    tab = open_tab()
    await sign_in(tab, "mo@example.com")
    await tab.emit(ChatState.send, {"form": {"message": "Tell me a long story"}})
    await tab.wait_for(lambda t: (t.get(StreamState, "seq") or 0) > 3, timeout=TIMEOUT)

    mark, since = len(tab.frames), len(tab.visited)
    await tab.emit(AuthState.sign_out)
    await tab.wait_redirected("/login", since=since, timeout=TIMEOUT)
    await tab.wait_for(lambda _: turns.running_count() == 0, timeout=TIMEOUT)
    assert [f for f in tab.frames[mark:] if f.get(StreamState, "chunk")] == []
    assert tab.values(ChatState, "last_turn", since=mark) in ([], [[]])
    assert server_side_leftovers(reflex_server, tab) == {}
