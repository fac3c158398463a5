"""Model changes reach open chat pages with no reload and no event from the page."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.services import catalog
from llm_chat.services.access import SYSTEM
from llm_chat.state.chat import ChatState
from tests.fake_provider import FakeProvider
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_model, make_provider, make_user, sign_in
from tests.support.reflex_server import ReflexClient


def names(tab: ReflexClient) -> list[str]:
    return [m["name"] for m in tab.get(ChatState, "models") or []]


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
