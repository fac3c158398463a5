"""The chat page over Reflex's real websocket protocol: streaming, stop, failures, ownership,
secrets and bytes on the wire. The app runs in-process; the LLM is the loopback fake."""

from __future__ import annotations

import asyncio
import itertools
import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat import config as config_module
from llm_chat.db import session_scope
from llm_chat.models import ChatModel, MessageStatus, Provider, User
from llm_chat.providers.errors import INTERRUPTED
from llm_chat.state.auth import AuthState, RegisterState
from llm_chat.state.chat import ChatState
from llm_chat.state.stream import StreamState
from tests.fake_provider import (
    FakeProvider,
    ReplySpec,
    generated_reasoning_tokens,
    generated_tokens,
)
from tests.state.conftest import TabFactory
from tests.state.helpers import (
    PASSWORD,
    TIMEOUT,
    conversations_of,
    history,
    make_model,
    make_provider,
    make_user,
    offered,
    seed_turns,
    send,
    shown_messages,
    sign_in,
    stored_messages,
    streamed_texts,
)
from tests.support.factories import disable_user
from tests.support.reflex_server import Frame, ReflexClient


def reply_text(tokens: int) -> str:
    """The fake's reply of ``tokens`` generated tokens."""
    return "".join(generated_tokens(tokens))


def messages(tab: ReflexClient) -> list[dict[str, object]]:
    """The finished messages the tab shows."""
    return shown_messages(tab)


async def test_streamed_reply_is_persisted(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("ann@example.com")
    make_model(make_provider(provider), "fake?tokens=30&delay=0.01")
    tab = open_tab()
    await sign_in(tab, "ann@example.com")
    assert offered(tab)
    assert tab.get(ChatState, "selected_model")

    mark = await send(tab, "Tell me something")

    # The reply streamed: each frame carries only the newest batch, the browser assembles
    # them; then the finished message, once.
    streamed = [v for v in streamed_texts(tab, since=mark) if v]
    assert len(streamed) >= 2
    # (the same text twice: the resync when the page of the new conversation mounts)
    assert all(b.startswith(a) for a, b in itertools.pairwise(streamed))
    # (leading white space is not shown while streaming; the stored reply keeps it)
    assert streamed[-1] == reply_text(30).lstrip()
    # No batch is sent twice (a resync, which carries `base`, sends the text so far anew).
    chunks = [
        f.get(StreamState, "chunk")
        for f in tab.frames[mark:]
        if f.has(StreamState, "chunk") and not f.has(StreamState, "base")
    ]
    assert "".join(chunks) == reply_text(30).lstrip()
    assert tab.values(ChatState, "is_streaming", since=mark)[0] is True
    # The send verified the session; the unchanged user fields were not sent again.
    assert tab.values(AuthState, "user_email", since=mark) == []
    assert tab.values(AuthState, "signed_in", since=mark) == []
    assert tab.get(ChatState, "is_streaming") is False
    assert tab.get(StreamState, "chunk") == ""
    shown = messages(tab)
    assert [(m["role"], m["content"], m["status"]) for m in shown] == [
        ("user", "Tell me something", "complete"),
        ("assistant", reply_text(30), "complete"),
    ]
    # The sidebar and the open conversation point at the new conversation.
    [conversation] = conversations_of(user.id)
    assert tab.get(ChatState, "conversation_id") == conversation.id
    assert [c["id"] for c in tab.get(ChatState, "conversations")] == [conversation.id]
    # The tab went to the new conversation's address through the router (replacing "/").
    redirect = tab.frontend_events("_redirect")[-1]  # (the first: from /login, signing in)
    assert redirect["payload"]["path"] == f"/c/{conversation.id}"
    assert redirect["payload"]["replace"] is True
    assert tab.visited[-1] == f"/c/{conversation.id}"
    # No script for the browser to eval (its Content-Security-Policy forbids eval).
    assert tab.frontend_events("_call_script") == []
    assert tab.frontend_events("_call_function") == []

    # Both messages are stored, the reply complete with its full text.
    rows = stored_messages(conversation.id)
    assert [(m.role, m.content, m.status) for m in rows] == [
        ("user", "Tell me something", "complete"),
        ("assistant", reply_text(30), "complete"),
    ]
    assert shown[1]["id"] == rows[1].id
    # The provider got the conversation so far.
    [request] = provider.wait_for_requests(1)
    assert request.completed
    assert request.messages == [{"role": "user", "content": "Tell me something"}]

    # Reopening the conversation (a reload) shows the stored messages.
    await tab.navigate(f"/c/{conversation.id}")
    assert [(m["role"], m["content"]) for m in messages(tab)] == [
        ("user", "Tell me something"),
        ("assistant", reply_text(30)),
    ]


async def test_stop_saves_the_partial_reply(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("bob@example.com")
    make_model(make_provider(provider), "fake?tokens=200&delay=0.02")
    tab = open_tab()
    await sign_in(tab, "bob@example.com")

    await tab.emit(ChatState.send, {"form": {"message": "Write a long story"}})
    await tab.wait_for(lambda t: len("".join(streamed_texts(t)[-1:])) >= 25, timeout=TIMEOUT)
    await tab.call(
        ChatState.stop_streaming,
        until=lambda t: t.get(ChatState, "is_streaming") is False and len(messages(t)) == 2,
        timeout=TIMEOUT,
    )

    full = reply_text(200)
    [conversation] = conversations_of(user.id)
    reply = stored_messages(conversation.id)[-1]
    assert reply.status == MessageStatus.STOPPED
    assert reply.content
    assert len(reply.content) < len(full)
    assert full.startswith(reply.content)
    assert messages(tab)[-1]["status"] == "stopped"
    assert messages(tab)[-1]["content"] == reply.content
    [request] = provider.wait_for_requests(1, timeout=TIMEOUT)
    assert request.client_disconnected
    assert not request.completed
    assert request.tokens_sent < 200


async def test_dropped_stream_is_interrupted_then_the_chat_goes_on(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("cat@example.com")
    make_model(make_provider(provider), "fake?tokens=12&delay=0.005")
    provider.enqueue(ReplySpec(token_count=50, delay=0.005, drop_after=5))
    tab = open_tab()
    await sign_in(tab, "cat@example.com")

    await send(tab, "First question")
    [conversation] = conversations_of(user.id)
    first = stored_messages(conversation.id)
    assert [(m.role, m.status) for m in first] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
    ]
    assert first[1].content == reply_text(5)
    assert first[1].error == INTERRUPTED
    shown = messages(tab)[-1]
    assert (shown["status"], shown["content"], shown["error"]) == (
        "interrupted",
        reply_text(5),
        INTERRUPTED,
    )
    assert provider.wait_for_requests(1)[0].dropped

    # The next message continues the same conversation, with the partial reply as history.
    await send(tab, "Second question")
    assert [c.id for c in conversations_of(user.id)] == [conversation.id]
    rows = stored_messages(conversation.id)
    assert [(m.role, m.status) for m in rows] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert rows[3].content == reply_text(12)
    second = provider.wait_for_requests(2)[1]
    assert second.messages == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": reply_text(5)},
        {"role": "user", "content": "Second question"},
    ]
    assert second.messages == history(rows[:3])
    assert messages(tab)[-1]["status"] == "complete"


async def test_user_cannot_open_or_continue_another_users_conversation(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    make_model(make_provider(provider), "fake?tokens=4")
    alice_tab = open_tab()
    await sign_in(alice_tab, "alice@example.com")
    await send(alice_tab, "Alice's secret plan")
    [theirs] = conversations_of(alice.id)
    before = [(m.id, m.role, m.content, m.status) for m in stored_messages(theirs.id)]

    # Bob opens Alice's URL: nothing is shown, only "not found".
    tab = open_tab()
    await sign_in(tab, "bob@example.com")
    await tab.navigate(f"/c/{theirs.id}")
    assert tab.get(ChatState, "error_key") == "error.conversation_not_found"
    assert messages(tab) == []
    assert tab.get(ChatState, "conversation_id") == 0
    assert tab.get(ChatState, "conversations") == []
    assert "Alice's secret plan" not in tab.wire_text

    # Sending from that URL starts a new conversation of Bob's; Alice's is untouched.
    await send(tab, "Bob writes here")
    [mine] = conversations_of(bob.id)
    assert mine.id != theirs.id
    assert tab.get(ChatState, "conversation_id") == mine.id
    assert stored_messages(mine.id)[0].content == "Bob writes here"
    assert provider.wait_for_requests(2)[1].messages == [
        {"role": "user", "content": "Bob writes here"}
    ]

    # The other handlers that take a conversation id check the owner too.
    await tab.call(
        ChatState.open_rename,
        {"conversation_id": theirs.id, "title": "mine now"},
        until=lambda t: t.get(ChatState, "rename_id") == theirs.id,
        timeout=TIMEOUT,
    )
    await tab.call(
        ChatState.save_rename,
        {"form": {"title": "mine now"}},
        until=lambda t: t.get(ChatState, "error_key") == "error.conversation_not_found",
        timeout=TIMEOUT,
    )
    await tab.emit(ChatState.close_dialogs)
    await tab.call(
        ChatState.open_delete,
        {"conversation_id": theirs.id},
        until=lambda t: t.get(ChatState, "delete_id") == theirs.id,
        timeout=TIMEOUT,
    )
    await tab.call(
        ChatState.confirm_delete,
        {"target": theirs.id},
        until=lambda t: (
            t.get(ChatState, "delete_id") == 0
            and t.get(ChatState, "error_key") == "error.conversation_not_found"
        ),
        timeout=TIMEOUT,
    )
    # Stopping a conversation of someone else's from this tab stops nothing of theirs.
    await tab.emit(ChatState.stop_streaming)
    await asyncio.sleep(0.2)
    assert not tab.get(ChatState, "is_streaming")

    [still] = conversations_of(alice.id)
    assert (still.id, still.title) == (theirs.id, theirs.title)
    assert [(m.id, m.role, m.content, m.status) for m in stored_messages(theirs.id)] == before
    assert [c.id for c in conversations_of(bob.id)] == [mine.id]
    assert len(provider.chat_requests) == 2


async def test_no_frame_carries_a_secret(app_db: Engine, open_tab: TabFactory) -> None:
    api_key = "sk-test-SECRET-123"
    with FakeProvider(api_key=api_key) as provider:
        make_model(make_provider(provider, api_key=api_key), "fake?tokens=40&delay=0.002")
        make_user("dan@example.com")

        # Register in one browser, sign in in another, chat, reopen the conversation.
        newcomer = open_tab()
        await newcomer.connect("/register")
        since = len(newcomer.visited)
        await newcomer.emit(
            RegisterState.register,
            {
                "form": {
                    "email": "eve@example.com",
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                }
            },
        )
        await newcomer.wait_redirected("/", since=since, timeout=TIMEOUT)
        tab = open_tab()
        await sign_in(tab, "dan@example.com")
        await send(tab, "Hello, what can you do?")
        conversation_id = tab.get(ChatState, "conversation_id")
        await tab.navigate(f"/c/{conversation_id}")
        await send(tab, "And then?")
        await tab.emit(ChatState.refresh_models, {"is_open": True})
        await tab.navigate("/")
        assert provider.wait_for_requests(2)[1].completed  # the key was used, and accepted

        with session_scope() as session:
            hashes = [u.password_hash for u in session.exec(select(User)).all()]
            encrypted = [p.api_key_encrypted for p in session.exec(select(Provider)).all()]
            assert session.exec(select(ChatModel)).first() is not None

    frames: list[Frame] = [f for t in (newcomer, tab) for f in t.frames]
    wire = "\n".join(f.text for f in frames)
    assert len(frames) > 30
    assert tab.get(AuthState, "auth_token")  # the user's own token is expected, nothing more
    forbidden = {
        "bcrypt hash marker": "$2b$",
        "API key": api_key,
        "JWT secret": os.environ["LLM_CHAT_JWT_SECRET"],
        "encryption key": os.environ["LLM_CHAT_ENCRYPTION_KEY"],
        "password": PASSWORD,
        **{f"hash of user {i}": h for i, h in enumerate(hashes)},
        **{f"encrypted key {i}": e for i, e in enumerate(encrypted) if e},
    }
    leaked = [name for name, value in forbidden.items() if value and value in wire]
    assert leaked == []
    # Backend-only vars (leading underscore) never reach the browser.
    keys = {key for f in frames for values in f.delta.values() for key in values}
    assert not [k for k in keys if k.startswith("_")]


def _reply_bytes(frames: list[Frame]) -> dict[str, int]:
    """Bytes of one reply's frames, split into per-token frames and history-carrying ones."""
    streaming = [f for f in frames if f.has(StreamState, "chunk") and f.get(StreamState, "chunk")]
    with_history = [f for f in frames if f.has(ChatState, "messages")]
    return {
        "frames": len(frames),
        "total": sum(f.size for f in frames),
        "stream_frames": len(streaming),
        "stream": sum(f.size for f in streaming),
        "history_frames": len(with_history),
        "history": sum(f.size for f in with_history),
        "largest_stream_frame": max(f.size for f in streaming),
    }


async def test_bytes_per_token_do_not_grow_with_the_conversation(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    tokens = 200
    user = make_user("fay@example.com")
    model_id = make_model(make_provider(provider), f"fake?tokens={tokens}&delay=0.01")
    tab = open_tab()
    await sign_in(tab, "fay@example.com")

    # Turn 1 of a new conversation.
    mark = await send(tab, "Question 1")
    turn1 = _reply_bytes(tab.frames[mark:])
    conversation_id = tab.get(ChatState, "conversation_id")

    # Turns 2-19 through the service layer, as long as real replies; then turn 20 in the UI.
    seed_turns(user.id, model_id, range(2, 20), lambda _: reply_text(tokens), conversation_id)
    await tab.navigate(f"/c/{conversation_id}")
    assert len(messages(tab)) == 30  # the latest window of the 38 messages
    mark = await send(tab, "Question 20")
    turn20 = _reply_bytes(tab.frames[mark:])
    assert len(provider.wait_for_requests(2)[1].messages) == 39  # the whole history was sent

    print(f"\nbytes per {tokens}-token reply, turn 1:  {turn1}")
    print(f"bytes per {tokens}-token reply, turn 20: {turn20}")
    for name, measured in (("turn 1", turn1), ("turn 20", turn20)):
        stream, total = measured["stream"] / tokens, measured["total"] / tokens
        print(f"{name}: {stream:.0f} streaming bytes/token, {total:.0f} bytes/token in all")

    # The history is never re-sent: not per batch, not at the end of the turn (only the turn's
    # question and reply travel, in `last_turn`), whatever the conversation's length.
    reply_bytes = len(reply_text(tokens).encode())
    for measured in (turn1, turn20):
        assert measured["history_frames"] == 0
        # O(1) per batch: a frame carries the newest few tokens, never the reply so far
        # (re-sending it made the last frames of this 1,000-byte reply ~1,200 bytes).
        assert measured["largest_stream_frame"] <= 600
        assert measured["stream_frames"] >= 5
        assert measured["total"] <= 2 * reply_bytes + 16 * 1024  # the streaming target
    assert turn20["largest_stream_frame"] <= 1.3 * turn1["largest_stream_frame"]
    assert turn20["stream"] <= 1.3 * turn1["stream"]
    assert turn20["total"] <= 1.3 * turn1["total"]


async def test_switching_model_mid_conversation(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("gil@example.com")
    provider_id = make_provider(provider)
    first = make_model(provider_id, "fake-one?tokens=5", display_name="A first model")
    second = make_model(provider_id, "fake-two?tokens=7", display_name="B second model")
    tab = open_tab()
    await sign_in(tab, "gil@example.com")
    assert [m["id"] for m in offered(tab)] == [str(first), str(second)]
    assert tab.get(ChatState, "selected_model") == str(first)

    await send(tab, "Hi one")
    await tab.call(
        ChatState.pick_model,
        {"model_id": str(second)},
        until=lambda t: t.get(ChatState, "selected_model") == str(second),
        timeout=TIMEOUT,
    )
    await send(tab, "Hi two")

    one, two = provider.wait_for_requests(2)
    assert one.model == "fake-one?tokens=5"
    assert two.model == "fake-two?tokens=7"
    assert two.messages == [
        {"role": "user", "content": "Hi one"},
        {"role": "assistant", "content": reply_text(5)},
        {"role": "user", "content": "Hi two"},
    ]
    [conversation] = conversations_of(user.id)
    assert conversation.model_id == second
    rows = stored_messages(conversation.id)
    assert [(m.role, m.model_id) for m in rows if m.role == "assistant"] == [
        ("assistant", first),
        ("assistant", second),
    ]
    assert rows[-1].content == reply_text(7)

    # An id that is not an enabled model is ignored; the conversation remembers its model.
    mark = len(tab.frames)
    await tab.emit(ChatState.pick_model, {"model_id": "999999"})
    await tab.call(
        ChatState.pick_model,
        {"model_id": str(first)},
        until=lambda t: t.get(ChatState, "selected_model") == str(first),
        timeout=TIMEOUT,
    )
    assert "999999" not in tab.values(ChatState, "selected_model", since=mark)
    await tab.navigate(f"/c/{conversation.id}")
    assert tab.get(ChatState, "selected_model") == str(second)


async def test_reload_mid_stream_shows_the_whole_reply(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    make_user("hal@example.com")
    make_model(make_provider(provider), "fake?tokens=120&delay=0.02")
    tab = open_tab()
    await sign_in(tab, "hal@example.com")
    await tab.emit(ChatState.send, {"form": {"message": "A long answer, please"}})
    await tab.wait_for(lambda t: len("".join(streamed_texts(t)[-1:])) >= 30, timeout=TIMEOUT)
    conversation_id = tab.get(ChatState, "conversation_id")
    await tab.close()

    # The same tab reloads (same client token and storage): the page has none of the text.
    reloaded = open_tab(local_storage=tab.local_storage)
    reloaded.token = tab.token
    await reloaded.connect(f"/c/{conversation_id}")
    await reloaded.wait_for(lambda t: t.get(ChatState, "is_streaming") is False, timeout=TIMEOUT)
    texts = [t for t in streamed_texts(reloaded) if t]
    assert len(texts[0]) >= 30  # a resync: the whole reply so far, at once
    assert texts[-1] == reply_text(120).lstrip()
    assert [m["content"] for m in messages(reloaded)] == ["A long answer, please", reply_text(120)]


async def test_long_conversation_opens_at_its_latest_messages(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("ivy@example.com")
    model_id = make_model(make_provider(provider), "fake-model")
    conversation_id = seed_turns(user.id, model_id, range(1, 38), lambda n: f"Answer {n}")
    tab = open_tab()
    await sign_in(tab, "ivy@example.com")
    await tab.navigate(f"/c/{conversation_id}")
    shown = [m["content"] for m in messages(tab)]
    assert len(shown) == 30
    assert shown[-1] == "Answer 37"
    assert tab.get(ChatState, "has_older") is True

    await tab.call(ChatState.load_older, until=lambda t: len(messages(t)) == 60)
    assert tab.get(ChatState, "has_older") is True
    await tab.call(ChatState.load_older, until=lambda t: len(messages(t)) == 74)
    assert tab.get(ChatState, "has_older") is False
    assert [m["content"] for m in messages(tab)][:2] == ["Question 1", "Answer 1"]


async def test_a_question_sent_the_moment_a_reply_ends_is_answered(
    sqlite_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    # The tab sends again as soon as it sees the end of a turn, like a quick typist: the
    # server must already have forgotten the finished stream by then.
    make_user("quick@example.com")
    make_model(make_provider(provider), "fake?tokens=3")
    tab = open_tab()
    await sign_in(tab, "quick@example.com")
    for turn in range(8):
        await send(tab, f"Question {turn}")
    assert [m["content"] for m in messages(tab) if m["role"] == "user"] == [
        f"Question {turn}" for turn in range(8)
    ]
    assert tab.get(ChatState, "error_key") == ""


async def test_an_account_disabled_while_signed_in_cannot_send(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    """`send` checks only the token's signature; the turn's own read checks the account."""
    user = make_user("dora@example.com")
    make_model(make_provider(provider), "fake?tokens=4")
    tab = open_tab()
    await sign_in(tab, "dora@example.com")
    disable_user(user.id)

    since = len(tab.visited)
    await tab.emit(ChatState.send, {"form": {"message": "Still here?"}})
    await tab.wait_redirected("/login", since=since, timeout=TIMEOUT)
    assert tab.get(ChatState, "is_streaming") is False
    assert tab.get(ChatState, "pending_question") == ""
    assert tab.get(AuthState, "signed_in") is False
    assert conversations_of(user.id) == []
    assert provider.chat_requests == []


async def test_a_reasoning_model_streams_its_thinking_on_its_own_channel(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("thinker@example.com")
    make_model(make_provider(provider), "fake?reasoning=30&tokens=20&delay=0.005")
    tab = open_tab()
    await sign_in(tab, "thinker@example.com")
    mark = await send(tab, "Think first")

    # Each channel's batches, resyncs (which carry their `base`) left out.
    thoughts = [
        f.get(StreamState, "thought_chunk")
        for f in tab.frames[mark:]
        if f.has(StreamState, "thought_chunk") and not f.has(StreamState, "thought_base")
    ]
    assert "".join(thoughts) == "".join(generated_reasoning_tokens(30)).lstrip()
    assert [s for s in tab.values(StreamState, "thought_seq", since=mark) if s]
    answer = [
        f.get(StreamState, "chunk")
        for f in tab.frames[mark:]
        if f.has(StreamState, "chunk") and not f.has(StreamState, "base")
    ]
    assert "".join(answer) == reply_text(20).lstrip()
    # Each channel's batches carry only its own new text: no batch is sent twice.
    assert all(t not in "".join(answer) for t in thoughts)
    shown = messages(tab)[-1]
    assert shown["reasoning"] == "".join(generated_reasoning_tokens(30))
    assert shown["content"] == reply_text(20)
    assert (shown["model"], shown["provider"]) == ("Fake model", "Fake")
    [conversation] = conversations_of(user.id)
    reply = stored_messages(conversation.id)[-1]
    assert (reply.content, reply.reasoning) == (reply_text(20), shown["reasoning"])
    # The next turn sends the answer back, never the thinking.
    await send(tab, "And then?")
    assert provider.last_request is not None
    assert provider.last_request.messages[1] == {"role": "assistant", "content": reply_text(20)}
    assert "".join(generated_reasoning_tokens(30))[:20] not in str(provider.last_request.messages)
    # A reload shows the thinking with the answer.
    await tab.navigate(f"/c/{conversation.id}")
    assert messages(tab)[1]["reasoning"] == shown["reasoning"]


async def test_a_database_failure_while_a_turn_opens_frees_the_tab(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    user = make_user("dbfail@example.com")
    make_model(make_provider(provider), "fake?tokens=5")
    tab = open_tab()
    await sign_in(tab, "dbfail@example.com")
    # A real database failure where the turn writes its rows: the table is gone.
    with app_db.begin() as connection:
        connection.execute(sa.text("ALTER TABLE message RENAME TO message_away"))
    try:
        await tab.emit(ChatState.send, {"form": {"message": "Is anyone there?"}})
        # The tab says so and is free; the question is back in the composer.
        await tab.wait_for(
            lambda t: (
                t.get(ChatState, "error_key") == "chat.send_failed"
                and t.get(ChatState, "is_streaming") is False
                and any("Is anyone there?" in str(e) for e in t.frontend_events("_set_value"))
            ),
            timeout=TIMEOUT,
        )
        assert [r.client_disconnected or r.completed for r in provider.wait_for_requests(1)]
    finally:
        with app_db.begin() as connection:
            connection.execute(sa.text("ALTER TABLE message_away RENAME TO message"))
    # Nothing was left half-written, and the next send works.
    assert conversations_of(user.id) == []
    await send(tab, "And now?")
    [conversation] = conversations_of(user.id)
    assert [m.status for m in stored_messages(conversation.id)] == ["complete", "complete"]


async def test_a_tab_over_the_user_s_stream_cap_is_told_so(
    app_db: Engine,
    provider: FakeProvider,
    open_tab: TabFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_CHAT_MAX_STREAMS_PER_USER", "1")
    config_module.get_settings.cache_clear()
    make_user("capped@example.com")
    make_model(make_provider(provider), "fake?tokens=200&delay=0.01")
    first, second = open_tab(), open_tab()
    await sign_in(first, "capped@example.com")
    await sign_in(second, "capped@example.com")
    try:
        await first.emit(ChatState.send, {"form": {"message": "A long one"}})
        await first.wait_for(lambda t: any(streamed_texts(t)), timeout=TIMEOUT)
        await second.emit(ChatState.send, {"form": {"message": "And another"}})
        await second.wait_for(
            lambda t: (
                t.get(ChatState, "error_key") == "chat.too_many_streams"
                and t.get(ChatState, "is_streaming") is False
            ),
            timeout=TIMEOUT,
        )
        requests = await asyncio.to_thread(provider.wait_for_requests, 1, finished=False)
        assert len(requests) == 1
        await first.call(
            ChatState.stop_streaming, until=lambda t: t.get(ChatState, "is_streaming") is False
        )
    finally:
        config_module.get_settings.cache_clear()


async def test_a_resync_is_sent_only_when_the_page_lacks_text(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    make_user("resync@example.com")
    make_model(make_provider(provider), "fake?tokens=12&delay=0.4")
    tab = open_tab()
    await sign_in(tab, "resync@example.com")
    await tab.emit(ChatState.send, {"form": {"message": "Slowly, please"}})
    await tab.wait_for(lambda t: (t.get(StreamState, "seq") or 0) >= 2, timeout=TIMEOUT)

    def resyncs(since: int) -> list[Frame]:
        return [f for f in tab.frames[since:] if f.has(StreamState, "base")]

    # A page that missed a batch asks: the whole text so far comes at once.
    mark = len(tab.frames)
    await tab.call(ChatState.resync_stream, until=lambda t: bool(resyncs(mark)))
    [resync] = resyncs(mark)
    assert resync.get(StreamState, "base") == tab.get(StreamState, "seq")
    # Asked again before any new batch (the resync was on its way): nothing is sent again.
    mark = len(tab.frames)
    await tab.emit(ChatState.resync_stream)
    await asyncio.sleep(0.15)
    assert resyncs(mark) == []
    await tab.call(
        ChatState.stop_streaming, until=lambda t: t.get(ChatState, "is_streaming") is False
    )
