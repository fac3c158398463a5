"""Model changes reach open chat pages with no reload and no event from the page."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from llm_chat.state.chat import ChatState
from llm_chat.state.live_catalog import POLL_SECONDS
from tests.fake_provider import FakeProvider
from tests.state.conftest import TabFactory
from tests.state.helpers import (
    TIMEOUT,
    make_model,
    make_provider,
    make_user,
    offered,
    seed_turns,
    send,
    shown_messages,
    sign_in,
)
from tests.support.reflex_server import ReflexClient


def names(tab: ReflexClient) -> list[str]:
    return [m["name"] for m in offered(tab)]


async def test_an_open_page_sees_models_added_and_disabled(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    make_user("lea@example.com")
    make_user("max@example.com")
    pages = [open_tab(), open_tab()]
    await sign_in(pages[0], "lea@example.com")
    await sign_in(pages[1], "max@example.com")
    for page in pages:  # no model yet: the page says so
        assert names(page) == []
        assert page.get(ChatState, "selected_model") == ""

    provider_id = make_provider(provider)
    first = make_model(provider_id, "fake?tokens=3", "First")
    marks = [len(page.sent) for page in pages]
    for page in pages:
        await page.wait_for(lambda t: names(t) == ["First"], timeout=TIMEOUT)
        assert page.get(ChatState, "selected_model") == str(first)
    second = make_model(provider_id, "fake?tokens=3", "Second")
    for page in pages:
        await page.wait_for(lambda t: names(t) == ["First", "Second"], timeout=TIMEOUT)
    await pages[0].call(
        ChatState.pick_model,
        {"model_id": str(second)},
        until=lambda t: t.get(ChatState, "selected_model") == str(second),
    )

    with session_scope() as session:
        catalog.set_model_enabled.within(session, actor=SYSTEM, model_id=second, enabled=False)
    for page in pages:
        await page.wait_for(lambda t: names(t) == ["First"], timeout=TIMEOUT)
        # A picked model that is gone gives way to one that is offered.
        assert page.get(ChatState, "selected_model") == str(first)
    # The pages sent nothing for any of it.
    assert [len(page.sent) for page in pages] == [marks[0] + 1, marks[1]]


async def test_each_page_is_offered_the_models_of_its_users_role(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    make_user("ray@example.com")
    make_user("sue@example.com")
    with session_scope() as session:
        users.set_role.within(session, email="sue@example.com", role=Role.ADMIN)
    provider_id = make_provider(provider)
    make_model(provider_id, "fake?tokens=3", "Everyone")
    user, admin = open_tab(), open_tab()
    await sign_in(user, "ray@example.com")
    await sign_in(admin, "sue@example.com")
    with session_scope() as session:
        catalog.create_model.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            display_name="Staff only",
            model_name="fake?tokens=3",
            allowed_roles=("admin",),
        )
    await admin.wait_for(lambda t: names(t) == ["Everyone", "Staff only"], timeout=TIMEOUT)
    await asyncio.sleep(2 * POLL_SECONDS)  # the user's page was sent nothing new
    assert names(user) == ["Everyone"]
    # A model picked by hand that the role may not use is refused.
    await user.call(ChatState.pick_model, {"model_id": "999"})
    assert names(user) == ["Everyone"]


async def test_a_conversation_whose_model_was_deleted_says_so_and_goes_on(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("tom@example.com")
    provider_id = make_provider(provider)
    make_model(provider_id, "fake?tokens=3", "Keeper")
    doomed = make_model(provider_id, "fake?tokens=4", "Doomed")
    conversation_id = seed_turns(user.id, doomed, range(1), lambda n: f"Answer {n}")
    with session_scope() as session:
        catalog.delete_model.within(session, actor=SYSTEM, model_id=doomed)
    tab = open_tab()
    await sign_in(tab, "tom@example.com")
    assert tab.get(ChatState, "model_gone") in (None, False)
    await tab.navigate(f"/c/{conversation_id}")
    assert tab.get(ChatState, "model_gone") is True
    await send(tab, "Still there?")
    assert tab.get(ChatState, "model_gone") is False
    assert shown_messages(tab)[-1]["model"] == "Keeper"
    await tab.navigate("/")
    assert tab.get(ChatState, "model_gone") is False


async def test_an_open_conversation_whose_model_goes_away_says_so_at_once(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("ula@example.com")
    provider_id = make_provider(provider)
    make_model(provider_id, "fake?tokens=3", "Keeper")
    fading = make_model(provider_id, "fake?tokens=4", "Fading")
    conversation_id = seed_turns(user.id, fading, range(1), lambda n: f"Answer {n}")
    tab = open_tab()
    await sign_in(tab, "ula@example.com")
    await tab.navigate(f"/c/{conversation_id}")
    assert tab.get(ChatState, "model_gone") is False
    assert tab.get(ChatState, "selected_model") == str(fading)
    sent = len(tab.sent)
    with session_scope() as session:
        catalog.set_model_enabled.within(session, actor=SYSTEM, model_id=fading, enabled=False)
    await tab.wait_for(lambda t: t.get(ChatState, "model_gone") is True, timeout=TIMEOUT)
    assert names(tab) == ["Keeper"]
    assert len(tab.sent) == sent  # no event from the page
