"""One chat turn against the loopback provider, through the real openai SDK."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, NotFoundError, ValidationError
from llm_chat.models import Message, MessageStatus
from llm_chat.providers import ProviderError, StreamStats
from llm_chat.services import catalog, chat, conversations
from tests.fake_provider import FakeProvider, ReplySpec
from tests.state.helpers import stored_messages
from tests.support.factories import disable_user, make_model, make_user


def _begin(user_id: int, model_id: int, text: str, conversation_id: int | None = None) -> chat.Turn:
    with session_scope() as session:
        return chat.begin_turn(
            session=session,
            user_id=user_id,
            conversation_id=conversation_id,
            model_id=model_id,
            text=text,
        )


def _stored(message_id: int) -> Message:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


async def _run(
    turn: chat.Turn, stop: asyncio.Event | None = None
) -> tuple[chat.ReplyOutcome, list[str]]:
    batches: list[str] = []

    async def collect(text: str) -> None:
        batches.append(text)

    outcome = await chat.stream_reply(
        turn, on_text=collect, stop=stop or asyncio.Event(), batch_seconds=0.04
    )
    return outcome, batches


async def test_question_is_saved_before_the_provider_answers(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url, system_prompt="You answer tersely.")
    provider.enqueue(ReplySpec(text="Hello back to you", first_token_delay=0.3))
    turn = _begin(user.id, model_id, "Hello?")
    assert _stored(turn.user_message_id).content == "Hello?"
    assert _stored(turn.reply_message_id).status == MessageStatus.STREAMING
    outcome, batches = await _run(turn)
    assert outcome.status == MessageStatus.COMPLETE
    assert "".join(batches) == "Hello back to you" == outcome.content
    reply = _stored(turn.reply_message_id)
    assert (reply.content, reply.status, reply.error) == ("Hello back to you", "complete", None)
    sent = provider.last_request
    assert sent is not None
    assert sent.messages == [
        {"role": "system", "content": "You answer tersely."},
        {"role": "user", "content": "Hello?"},
    ]
    assert sent.headers["authorization"] == "Bearer sk-test"


async def test_next_turn_sends_the_full_history_to_a_switched_model(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    first_model = make_model(provider.base_url, "model-one")
    second_model = make_model(provider.base_url, "model-two")
    provider.enqueue(ReplySpec(text="One."), ReplySpec(text="Two."))
    turn = _begin(user.id, first_model, "Question 1")
    await _run(turn)
    turn2 = _begin(user.id, second_model, "Question 2", turn.conversation_id)
    await _run(turn2)
    last = provider.last_request
    assert last is not None
    assert last.model == "model-two"
    assert last.messages == [
        {"role": "user", "content": "Question 1"},
        {"role": "assistant", "content": "One."},
        {"role": "user", "content": "Question 2"},
    ]
    with session_scope() as session:
        listed = conversations.list_conversations(session=session, user_id=user.id)
    assert listed[0].model_id == second_model


async def test_stop_keeps_the_partial_reply(app_db: Engine, provider: FakeProvider) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(token_count=200, delay=0.01))
    turn = _begin(user.id, model_id, "Long answer please")
    stop = asyncio.Event()
    batches: list[str] = []

    async def collect(text: str) -> None:
        batches.append(text)
        if sum(len(b) for b in batches) >= 50:
            stop.set()

    outcome = await chat.stream_reply(turn, on_text=collect, stop=stop, batch_seconds=0.04)
    assert outcome.status == MessageStatus.STOPPED
    assert outcome.content == "".join(batches)
    assert 50 <= len(outcome.content) < 200 * 5
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content) == ("stopped", outcome.content)
    record = provider.wait_for_requests(1, timeout=5)[0]
    assert record.client_disconnected
    assert not record.completed


async def test_dropped_stream_is_saved_as_interrupted_and_the_chat_goes_on(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(tokens=["Par", "tial", " rep", "ly", "!", " never"], drop_after=5))
    turn = _begin(user.id, model_id, "Tell me")
    outcome, _ = await _run(turn)
    assert outcome.status == MessageStatus.INTERRUPTED
    assert outcome.content == "Partial reply!"
    assert outcome.error == "provider.interrupted"
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content) == ("interrupted", "Partial reply!")
    provider.enqueue(ReplySpec(text="Recovered."))
    turn2 = _begin(user.id, model_id, "Again", turn.conversation_id)
    outcome2, _ = await _run(turn2)
    assert outcome2.status == MessageStatus.COMPLETE
    last = provider.last_request
    assert last is not None
    assert last.messages[-2:] == [
        {"role": "assistant", "content": "Partial reply!"},
        {"role": "user", "content": "Again"},
    ]


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (ReplySpec(status=429, error_message="slow down"), "provider.rate_limited"),
        (ReplySpec(status=401, error_message="bad key"), "provider.auth"),
        (ReplySpec(status=404, error_message="no such model"), "provider.model_not_found"),
        (ReplySpec(status=500, error_message="boom"), "provider.server_error"),
        (ReplySpec(status=400, error_message="too long"), "provider.bad_request"),
    ],
)
async def test_provider_errors_become_clear_codes(
    sqlite_db: Engine, provider: FakeProvider, spec: ReplySpec, code: str
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(spec, spec)  # the client retries once
    turn = _begin(user.id, model_id, "Hi")
    outcome, batches = await _run(turn)
    assert (outcome.status, outcome.error, batches) == (MessageStatus.ERROR, code, [])
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.error) == ("error", code)
    assert "Traceback" not in (reply.content or "")


async def test_unreachable_provider(sqlite_db: Engine) -> None:
    user = make_user()
    model_id = make_model("http://127.0.0.1:9/v1")  # nothing listens on the discard port
    outcome, _ = await _run(_begin(user.id, model_id, "Hi"))
    assert (outcome.status, outcome.error) == (MessageStatus.ERROR, "provider.unreachable")


def test_disabled_model_refuses_before_anything_is_saved(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    with session_scope() as session:
        catalog.set_model_enabled(session=session, model_id=model_id, enabled=False)
    with pytest.raises(ProviderError) as caught:
        _begin(user.id, model_id, "Hi")
    assert caught.value.code == "provider.model_unavailable"
    with session_scope() as session:
        assert conversations.list_conversations(session=session, user_id=user.id) == []
    with pytest.raises(ValidationError):
        _begin(user.id, model_id, "   ")


async def test_batches_join_tokens_by_time_and_send_the_first_at_once() -> None:
    async def tokens() -> object:
        for index in range(30):
            yield f"t{index} "
            await asyncio.sleep(0.005)

    loop = asyncio.get_running_loop()
    start = loop.time()
    arrivals: list[tuple[float, str]] = []
    async for batch in chat.batch_by_time(tokens(), 0.05, asyncio.Event()):  # type: ignore[arg-type]
        arrivals.append((loop.time() - start, batch))
    assert "".join(b for _, b in arrivals) == "".join(f"t{i} " for i in range(30))
    assert arrivals[0][1] == "t0 "
    assert arrivals[0][0] < 0.03
    assert 2 <= len(arrivals) < 15


async def test_batches_flush_what_came_before_an_error() -> None:
    async def failing() -> object:
        yield "a"
        yield "b"
        raise RuntimeError("gone")

    seen: list[str] = []

    async def consume() -> None:
        async for batch in chat.batch_by_time(failing(), 0.05, asyncio.Event()):  # type: ignore[arg-type]
            seen.append(batch)

    with pytest.raises(RuntimeError, match="gone"):
        await consume()
    assert "".join(seen) == "ab"


async def test_an_api_client_leaving_saves_the_reply_as_interrupted(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(token_count=200, delay=0.01))
    turn = _begin(user.id, model_id, "Long answer please")
    stop = asyncio.Event()

    async def leave_early(text: str) -> None:
        stop.set()

    outcome = await chat.stream_reply(
        turn,
        on_text=leave_early,
        stop=stop,
        batch_seconds=0.04,
        stopped_status=MessageStatus.INTERRUPTED,
    )
    assert outcome.status == MessageStatus.INTERRUPTED
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content) == ("interrupted", outcome.content)
    assert outcome.content


async def test_usage_is_reported_and_unstored_turns_write_nothing(
    sqlite_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    turn = _begin(user.id, model_id, "Count me")
    unstored = dataclasses.replace(turn, user_message_id=0, reply_message_id=0)
    stats = StreamStats()
    outcome = await chat.stream_reply(
        unstored, on_text=_ignore, stop=asyncio.Event(), batch_seconds=0.04, stats=stats
    )
    assert outcome.content == "Echo: Count me"
    assert (stats.completion_tokens, stats.finish_reason) == (3, "stop")  # "Echo:", " Count", " me"
    assert stats.prompt_tokens is not None
    record = provider.last_request
    assert record is not None
    assert record.body["stream_options"] == {"include_usage": True}
    assert _stored(turn.reply_message_id).status == MessageStatus.STREAMING  # untouched


async def _ignore(text: str) -> None:
    return None


async def test_batches_grow_after_the_start_of_a_reply() -> None:
    async def tokens() -> object:
        for index in range(500):
            yield f"{index} "
            await asyncio.sleep(0.005)

    loop = asyncio.get_running_loop()
    start = loop.time()
    times: list[float] = []
    batches = chat.batch_by_time(
        tokens(),  # type: ignore[arg-type]
        0.02,
        asyncio.Event(),
        max_interval=0.2,
    )
    async for _ in batches:
        times.append(loop.time() - start)
    late_gaps = [b - a for a, b in itertools.pairwise(times) if a > chat.BATCH_RAMP_SECONDS]
    assert late_gaps
    assert min(late_gaps[:-1]) >= 0.19  # the last batch may flush early, at the end
    assert sum(1 for t in times if t < 0.5) >= 5  # 20-ms-ish batches at the start


def _count_rows() -> int:
    with session_scope() as session:
        return len(session.exec(select(Message)).all())


def _open_turn(
    user_id: int, model_id: int, text: str, provider_timeout: float = 10
) -> Coroutine[Any, Any, tuple[chat.Turn, chat.ReplyFeed]]:
    """A new conversation's first turn, as the chat page starts it."""
    return chat.open_turn(
        user_id=user_id,
        conversation_id=None,
        model_id=model_id,
        text=text,
        provider_timeout=provider_timeout,
    )


async def test_open_turn_asks_the_provider_and_saves_the_question(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(text="Early answer", first_token_delay=0.2))
    turn, feed = await _open_turn(user.id, model_id, "Quick?")
    # The request is out and the rows are written before any text is read.
    requests = await asyncio.to_thread(provider.wait_for_requests, 1, finished=False)
    assert requests[0].messages == [{"role": "user", "content": "Quick?"}]
    assert _stored(turn.user_message_id).content == "Quick?"
    assert _stored(turn.reply_message_id).status == MessageStatus.STREAMING
    outcome = await chat.stream_reply(
        turn, on_text=_ignore, stop=asyncio.Event(), batch_seconds=0.04, feed=feed
    )
    assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, "Early answer")
    assert _stored(turn.reply_message_id).content == "Early answer"


async def test_open_turn_writes_the_rows_once_the_provider_has_answered(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(text="Late headers", headers_delay=0.2, first_token_delay=0.3))
    opening = asyncio.ensure_future(_open_turn(user.id, model_id, "Wait?"))
    # The request is out, the provider has not answered yet: nothing is written so far.
    await asyncio.to_thread(provider.wait_for_requests, 1, finished=False)
    before = _count_rows()
    assert not opening.done()
    turn, feed = await opening
    assert feed.answered.is_set()
    assert _count_rows() == before + 2  # the question and the placeholder
    assert _stored(turn.user_message_id).content == "Wait?"
    outcome = await chat.stream_reply(
        turn, on_text=_ignore, stop=asyncio.Event(), batch_seconds=0.04, feed=feed
    )
    assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, "Late headers")


async def test_open_turn_writes_the_rows_without_a_provider_slow_to_answer(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(text="Very late", headers_delay=30, first_token_delay=30))
    async with asyncio.timeout(10):
        turn, feed = await _open_turn(user.id, model_id, "Hello?", provider_timeout=60)
    # Written after at most RECORD_WAIT_SECONDS, the provider still silent.
    assert not feed.answered.is_set()
    assert _stored(turn.user_message_id).content == "Hello?"
    assert _stored(turn.reply_message_id).status == MessageStatus.STREAMING
    await chat.abandon_turn(turn, feed)
    assert _stored(turn.reply_message_id).status == MessageStatus.INTERRUPTED


async def test_open_turn_of_a_disabled_account_writes_and_asks_nothing(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    disable_user(user.id)
    before = _count_rows()
    with pytest.raises(AuthError):
        await _open_turn(user.id, model_id, "Hi", provider_timeout=5)
    assert _count_rows() == before
    assert provider.chat_requests == []


def test_a_plan_refuses_another_users_conversation(app_db: Engine, provider: FakeProvider) -> None:
    owner, other = make_user(), make_user()
    model_id = make_model(provider.base_url)
    theirs = _begin(owner.id, model_id, "Private question").conversation_id
    for conversation_id in (theirs, theirs + 100):
        with pytest.raises(NotFoundError) as caught, session_scope() as session:
            chat.plan_turn(
                session=session,
                user_id=other.id,
                conversation_id=conversation_id,
                model_id=model_id,
                text="Let me in",
            )
        assert caught.value.code == "error.conversation_not_found"


def test_a_plan_writes_nothing_and_its_record_refuses_a_deleted_conversation(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    first = _begin(user.id, model_id, "First question")
    with session_scope() as session:
        plan = chat.plan_turn(
            session=session,
            user_id=user.id,
            conversation_id=first.conversation_id,
            model_id=model_id,
            text="Second question",
        )
    assert plan.history == [
        {"role": "user", "content": "First question"},
        {"role": "user", "content": "Second question"},
    ]
    assert [m.content for m in stored_messages(first.conversation_id)] == ["First question", ""]
    with session_scope() as session:
        conversations.delete_conversation(
            session=session, user_id=user.id, conversation_id=first.conversation_id
        )
    with pytest.raises(NotFoundError), session_scope() as session:
        chat.record_turn(session=session, plan=plan)
    assert stored_messages(first.conversation_id) == []


async def test_an_abandoned_turn_closes_its_request_and_its_reply(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(text="never read " * 50, first_token_delay=0.1, delay=0.05))
    turn, feed = await _open_turn(user.id, model_id, "Hm")
    await asyncio.to_thread(provider.wait_for_requests, 1, finished=False)
    await chat.abandon_turn(turn, feed)
    [request] = await asyncio.to_thread(provider.wait_for_requests, 1)
    assert request.client_disconnected
    assert not request.completed
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content) == (MessageStatus.INTERRUPTED, "")


async def test_a_feed_reads_its_source_before_anyone_asks() -> None:
    read: list[str] = []

    async def source() -> AsyncIterator[str]:
        for piece in ("a", "b", "c"):
            read.append(piece)
            yield piece

    feed = chat.ReplyFeed(source())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert read == ["a", "b", "c"]
    assert feed.buffer == ["a", "b", "c"]
    batches = [b async for b in chat.batch_by_time(feed, 0.05, asyncio.Event())]
    assert batches == ["abc"]
    assert feed.reader.done()
