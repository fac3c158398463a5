"""Replies being written, as a tab shows them: per conversation, and from any tab.

A tab may leave a conversation whose reply streams and ask in another one; coming back (or
opening the conversation in a second tab) shows the reply live until it ends, wherever the
turn runs.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import MessageStatus
from llm_chat.services import turn_rows
from llm_chat.state.chat import ChatState
from tests.fake_provider import FakeProvider, generated_tokens
from tests.state.conftest import TabFactory
from tests.state.helpers import (
    TIMEOUT,
    make_model,
    make_provider,
    make_user,
    seed_turns,
    send,
    shown_messages,
    sign_in,
    stored_messages,
    streamed_texts,
)
from tests.support.reflex_server import ReflexClient

LONG = "fake?tokens=200&delay=0.03"


def reply_text(tokens: int) -> str:
    """The fake's reply of ``tokens`` generated tokens."""
    return "".join(generated_tokens(tokens))


def shown_text(tab: ReflexClient, since: int = 0) -> str:
    """The streaming reply's text as the tab's page shows it now."""
    texts = streamed_texts(tab, since)
    return texts[-1] if texts else ""


async def pick(tab: ReflexClient, model_id: int) -> None:
    await tab.call(
        ChatState.pick_model,
        {"model_id": str(model_id)},
        until=lambda t: t.get(ChatState, "selected_model") == str(model_id),
    )


async def test_a_tab_asks_elsewhere_while_a_reply_streams_and_finds_it_live_again(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("ida@example.com")
    provider_id = make_provider(provider)
    slow = make_model(provider_id, LONG, "Slow")
    fast = make_model(provider_id, "fake?tokens=5", "Fast")
    other = seed_turns(user.id, fast, range(1), lambda n: f"Answer {n}")
    tab = open_tab()
    await sign_in(tab, "ida@example.com")
    await pick(tab, slow)
    await tab.emit(ChatState.send, {"form": {"message": "Tell me a long story"}})
    await tab.wait_for(lambda t: len(shown_text(t)) >= 20, timeout=TIMEOUT)
    first = tab.get(ChatState, "conversation_id")

    # Another conversation: no Stop, no "busy"; a question there is answered at once.
    await tab.navigate(f"/c/{other}")
    assert tab.get(ChatState, "is_streaming") is False
    assert tab.get(ChatState, "pending_question") == ""
    await pick(tab, fast)
    await send(tab, "And a short one")
    assert [m["content"] for m in shown_messages(tab)][-2:] == ["And a short one", reply_text(5)]
    assert not tab.get(ChatState, "error_key")
    assert stored_messages(first)[-1].status == MessageStatus.STREAMING  # still being written

    # Back in the first conversation: its reply is shown live, then joins the messages.
    mark = len(tab.frames)
    await tab.navigate(f"/c/{first}")
    assert tab.get(ChatState, "is_streaming") is True
    assert tab.get(ChatState, "pending_question") == "Tell me a long story"
    await tab.wait_for(lambda t: t.get(ChatState, "is_streaming") is False, timeout=TIMEOUT)
    texts = [text for text in streamed_texts(tab, mark) if text]
    assert len(texts) > 2  # shown as it was written, not only at its end
    assert texts[-1] == reply_text(200).lstrip()
    assert [m["content"] for m in shown_messages(tab)] == [
        "Tell me a long story",
        reply_text(200),
    ]
    rows = stored_messages(first)
    assert (rows[-1].status, rows[-1].content) == (MessageStatus.COMPLETE, reply_text(200))


async def test_a_second_tab_shows_the_reply_live_and_can_stop_it(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    make_user("jon@example.com")
    make_model(make_provider(provider), "fake?tokens=400&delay=0.03")
    writer = open_tab()
    await sign_in(writer, "jon@example.com")
    await writer.emit(ChatState.send, {"form": {"message": "Write on"}})
    await writer.wait_for(lambda t: len(shown_text(t)) >= 20, timeout=TIMEOUT)
    conversation_id = writer.get(ChatState, "conversation_id")

    reader = open_tab()
    await sign_in(reader, "jon@example.com")
    await reader.navigate(f"/c/{conversation_id}")
    assert reader.get(ChatState, "is_streaming") is True
    assert reader.get(ChatState, "pending_question") == "Write on"
    await reader.wait_for(lambda t: len(shown_text(t)) >= 60, timeout=TIMEOUT)
    assert len(next(text for text in streamed_texts(reader) if text)) >= 20  # all so far at once

    await reader.call(
        ChatState.stop_streaming,
        until=lambda t: t.get(ChatState, "is_streaming") is False,
        timeout=TIMEOUT,
    )
    await writer.wait_for(lambda t: t.get(ChatState, "is_streaming") is False, timeout=TIMEOUT)
    stored = stored_messages(conversation_id)[-1]
    assert stored.status == MessageStatus.STOPPED
    assert 60 <= len(stored.content) < len(reply_text(400))
    for tab in (writer, reader):
        assert shown_messages(tab)[-1]["content"] == stored.content
        assert shown_messages(tab)[-1]["status"] == "stopped"


async def test_a_reply_written_elsewhere_is_followed_from_its_saved_text(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    """A turn of another worker: the page reads its row, which the turn saves as it goes."""
    user = make_user("kim@example.com")
    model = make_model(make_provider(provider), "fake?tokens=5")
    conversation_id = seed_turns(user.id, model, range(1), lambda n: "Hel", conversation_id=None)
    reply_id = stored_messages(conversation_id)[-1].id
    assert reply_id is not None

    def save(content: str, status: MessageStatus) -> None:
        with session_scope() as session:
            turn_rows.save_reply.within(
                session, message_id=reply_id, content=content, status=status
            )

    save("Hel", MessageStatus.STREAMING)
    tab = open_tab()
    await sign_in(tab, "kim@example.com")
    await tab.navigate(f"/c/{conversation_id}")
    assert tab.get(ChatState, "is_streaming") is True
    assert tab.get(ChatState, "pending_question") == "Question 0"
    await tab.wait_for(lambda t: shown_text(t) == "Hel", timeout=TIMEOUT)
    save("Hello, wor", MessageStatus.STREAMING)
    await tab.wait_for(lambda t: shown_text(t) == "Hello, wor", timeout=TIMEOUT)
    save("Hello, world.", MessageStatus.COMPLETE)
    await tab.wait_for(lambda t: t.get(ChatState, "is_streaming") is False, timeout=TIMEOUT)
    assert [(m["content"], m["status"]) for m in shown_messages(tab)] == [
        ("Question 0", "complete"),
        ("Hello, world.", "complete"),
    ]
