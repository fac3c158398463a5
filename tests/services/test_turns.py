"""The turn service against the loopback provider, through the real openai SDK."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, NotFoundError, ValidationError
from llm_chat.models import Message, MessageStatus
from llm_chat.providers import ProviderError
from llm_chat.services import catalog, conversations, turn_plan, turn_rows, turns
from llm_chat.services.access import SYSTEM
from llm_chat.services.replies import Batch
from llm_chat.services.turns import ReplyOutcome, RunningTurn
from tests.fake_provider import FakeProvider, ReplySpec
from tests.state.helpers import stored_messages
from tests.support.factories import disable_user, make_model, make_user


async def _begin(
    user_id: int, model: int | str | None, text: str, conversation_id: int | None = None
) -> RunningTurn:
    return await turns.start_turn(
        user_id=user_id, conversation_id=conversation_id, model=model, text=text
    )


def _stored(message_id: int) -> Message:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


async def _run(turn: RunningTurn) -> tuple[ReplyOutcome, list[str]]:
    batches = [batch.text async for batch in turn.batches()]
    return await turn.outcome(), batches


async def test_question_is_saved_before_the_reply_and_the_reply_when_it_ends(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url, system_prompt="You answer tersely.")
    provider.enqueue(ReplySpec(text="Hello back to you", first_token_delay=0.3))
    turn = await _begin(user.id, model_id, "Hello?")
    assert _stored(turn.rows.user_message_id).content == "Hello?"
    placeholder = _stored(turn.reply_message_id)
    assert placeholder.status == MessageStatus.STREAMING
    # The reply names its model and provider as they are now.
    assert (placeholder.model_id, placeholder.model_name) == (model_id, "fake-model")
    assert placeholder.provider_name.startswith("Provider ")
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
    assert turns.running_count() == 0


async def test_next_turn_sends_the_full_history_to_a_switched_model(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    first_model = make_model(provider.base_url, "model-one")
    second_model = make_model(provider.base_url, "model-two")
    provider.enqueue(ReplySpec(text="One."), ReplySpec(text="Two."))
    turn = await _begin(user.id, first_model, "Question 1")
    await _run(turn)
    turn2 = await _begin(user.id, second_model, "Question 2", turn.conversation_id)
    await _run(turn2)
    last = provider.last_request
    assert last is not None
    assert last.model == "model-two"
    assert last.messages == [
        {"role": "user", "content": "Question 1"},
        {"role": "assistant", "content": "One."},
        {"role": "user", "content": "Question 2"},
    ]
    listed = await conversations.list_conversations(user_id=user.id)
    assert listed[0].model_id == second_model


async def test_a_conversation_keeps_its_model_unless_another_is_named(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    default_model = make_model(provider.base_url, "model-default", is_default=True)
    chosen = make_model(provider.base_url, "model-chosen")
    turn = await _begin(user.id, chosen, "First")
    await _run(turn)
    # No model named: the conversation's own, not the default.
    await _run(await _begin(user.id, None, "Second", turn.conversation_id))
    assert provider.last_request is not None
    assert provider.last_request.model == "model-chosen"
    # A new conversation with no model named gets the default.
    fresh = await _begin(user.id, None, "Elsewhere")
    await _run(fresh)
    assert fresh.plan.target.model_id == default_model
    # The conversation's model disabled meanwhile: it goes on with the default.
    with session_scope() as session:
        catalog.set_model_enabled.within(session, actor=SYSTEM, model_id=chosen, enabled=False)
    later = await _begin(user.id, "", "Third", turn.conversation_id)
    await _run(later)
    assert later.plan.target.model_id == default_model
    assert _stored(later.reply_message_id).model_name == "model-default"


async def test_stop_keeps_the_partial_reply(app_db: Engine, provider: FakeProvider) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(token_count=200, delay=0.01))
    turn = await _begin(user.id, model_id, "Long answer please")
    batches: list[str] = []
    async for batch in turn.batches():
        batches.append(batch.text)
        if sum(len(b) for b in batches) >= 50:
            # Another door (another tab, the API) stops it by its conversation.
            assert turns.stop_turns(user_id=user.id, conversation_id=turn.conversation_id) == 1
    outcome = await turn.outcome()
    assert outcome.status == MessageStatus.STOPPED
    assert outcome.content == "".join(batches)
    assert 50 <= len(outcome.content) < 200 * 5
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content) == ("stopped", outcome.content)
    record = provider.wait_for_requests(1, timeout=5)[0]
    assert record.client_disconnected
    assert not record.completed


async def test_only_the_owner_can_stop_a_turn(app_db: Engine, provider: FakeProvider) -> None:
    owner, other = make_user(), make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(token_count=40, delay=0.01))
    turn = await _begin(owner.id, model_id, "Mine")
    assert turns.stop_turns(user_id=other.id, conversation_id=turn.conversation_id) == 0
    assert turns.stop_turns(user_id=other.id, reply_message_id=turn.reply_message_id) == 0
    with pytest.raises(NotFoundError):
        turns.stop_turns(user_id=owner.id)
    outcome, _ = await _run(turn)
    assert outcome.status == MessageStatus.COMPLETE


async def test_a_door_that_leaves_saves_the_reply_as_interrupted(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(token_count=200, delay=0.01))
    turn = await _begin(user.id, model_id, "Long answer please")
    async for _ in turn.batches():
        break
    outcome = await turn.close()
    assert outcome.status == MessageStatus.INTERRUPTED
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content) == ("interrupted", outcome.content)
    assert outcome.content


async def test_dropped_stream_is_saved_as_interrupted_and_the_chat_goes_on(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(tokens=["Par", "tial", " rep", "ly", "!", " never"], drop_after=5))
    turn = await _begin(user.id, model_id, "Tell me")
    outcome, _ = await _run(turn)
    assert outcome.status == MessageStatus.INTERRUPTED
    assert outcome.content == "Partial reply!"
    assert outcome.error == "provider.interrupted"
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content) == ("interrupted", "Partial reply!")
    provider.enqueue(ReplySpec(text="Recovered."))
    turn2 = await _begin(user.id, model_id, "Again", turn.conversation_id)
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
    turn = await _begin(user.id, model_id, "Hi")
    outcome, batches = await _run(turn)
    assert (outcome.status, outcome.error, batches) == (MessageStatus.ERROR, code, [])
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.error) == ("error", code)
    assert "Traceback" not in (reply.content or "")


async def test_unreachable_provider(sqlite_db: Engine) -> None:
    user = make_user()
    model_id = make_model("http://127.0.0.1:9/v1")  # nothing listens on the discard port
    outcome, _ = await _run(await _begin(user.id, model_id, "Hi"))
    assert (outcome.status, outcome.error) == (MessageStatus.ERROR, "provider.unreachable")


async def test_disabled_model_refuses_before_anything_is_saved(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    with session_scope() as session:
        catalog.set_model_enabled.within(session, actor=SYSTEM, model_id=model_id, enabled=False)
    with pytest.raises(ProviderError) as caught:
        await _begin(user.id, model_id, "Hi")
    assert caught.value.code == "provider.model_unavailable"
    assert await conversations.list_conversations(user_id=user.id) == []
    with pytest.raises(ValidationError):
        await _begin(user.id, model_id, "   ")
    assert provider.chat_requests == []


def _count_rows() -> int:
    with session_scope() as session:
        return len(session.exec(select(Message)).all())


async def test_the_rows_are_written_once_the_provider_has_answered(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(text="Late headers", headers_delay=0.2, first_token_delay=0.3))
    opening = asyncio.ensure_future(_begin(user.id, model_id, "Wait?"))
    # The request is out, the provider has not answered yet: nothing is written so far.
    await asyncio.to_thread(provider.wait_for_requests, 1, finished=False)
    before = _count_rows()
    assert not opening.done()
    turn = await opening
    assert _count_rows() == before + 2  # the question and the placeholder
    assert _stored(turn.rows.user_message_id).content == "Wait?"
    outcome, _ = await _run(turn)
    assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, "Late headers")


async def test_the_rows_are_written_without_a_provider_slow_to_answer(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(text="Very late", headers_delay=30, first_token_delay=30))
    async with asyncio.timeout(10):
        turn = await _begin(user.id, model_id, "Hello?")
    # Written after at most RECORD_WAIT_SECONDS, the provider still silent.
    assert _stored(turn.rows.user_message_id).content == "Hello?"
    assert _stored(turn.reply_message_id).status == MessageStatus.STREAMING
    outcome = await turn.close()
    assert outcome.status == MessageStatus.INTERRUPTED
    assert _stored(turn.reply_message_id).status == MessageStatus.INTERRUPTED
    [request] = await asyncio.to_thread(provider.wait_for_requests, 1)
    assert request.client_disconnected


async def test_a_disabled_account_writes_and_asks_nothing(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    disable_user(user.id)
    before = _count_rows()
    with pytest.raises(AuthError):
        await _begin(user.id, model_id, "Hi")
    assert _count_rows() == before
    assert provider.chat_requests == []


async def test_a_plan_refuses_another_users_conversation(
    app_db: Engine, provider: FakeProvider
) -> None:
    owner, other = make_user(), make_user()
    model_id = make_model(provider.base_url)
    theirs = await _begin(owner.id, model_id, "Private question")
    await _run(theirs)
    for conversation_id in (theirs.conversation_id, theirs.conversation_id + 100):
        with pytest.raises(NotFoundError) as caught:
            await turn_plan.plan_turn(
                user_id=other.id, conversation_id=conversation_id, model=None, text="Let me in"
            )
        assert caught.value.code == "error.conversation_not_found"
    assert len(provider.chat_requests) == 1


async def test_a_plan_writes_nothing_and_its_record_refuses_a_deleted_conversation(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    first = await _begin(user.id, model_id, "First question")
    await _run(first)
    plan = await turn_plan.plan_turn(
        user_id=user.id, conversation_id=first.conversation_id, model=None, text="Second"
    )
    assert plan.messages == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "Echo: First question"},
        {"role": "user", "content": "Second"},
    ]
    assert len(stored_messages(first.conversation_id)) == 2
    await conversations.delete_conversation(user_id=user.id, conversation_id=first.conversation_id)
    with pytest.raises(NotFoundError):
        await turn_rows.record_turn(plan=plan)
    assert stored_messages(first.conversation_id) == []


async def test_a_database_failure_mid_reply_still_ends_the_turn(
    app_db: Engine, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(ReplySpec(token_count=60, delay=0.01))
    turn = await _begin(user.id, model_id, "Go on")
    # The table goes away while the reply streams: its checkpoints and its end fail.
    with app_db.begin() as connection:
        connection.execute(sa.text("ALTER TABLE message RENAME TO message_away"))
    try:
        outcome, batches = await _run(turn)
    finally:
        with app_db.begin() as connection:
            connection.execute(sa.text("ALTER TABLE message_away RENAME TO message"))
    # The reader got the whole reply and its end; nothing is left running.
    assert outcome.status == MessageStatus.COMPLETE
    assert "".join(batches) == outcome.content
    assert turns.running_count() == 0
    assert any("could not be saved" in r.message for r in caplog.records)
    # The turn gave its stream slot back: the next turn starts.
    provider.enqueue(ReplySpec(text="Again"))
    next_outcome, _ = await _run(await _begin(user.id, model_id, "Again?"))
    assert next_outcome.status == MessageStatus.COMPLETE


async def test_watchers_get_the_reply_so_far_then_each_batch(
    app_db: Engine, provider: FakeProvider
) -> None:
    """Readers besides the door's (another tab): one from the start, one joining late."""
    user = make_user()
    model_id = make_model(provider.base_url)
    provider.enqueue(
        # Tokens far enough apart that a loaded machine still hands the early watcher more
        # than one batch of them (a watcher that falls behind gets what it missed joined).
        ReplySpec(text="one two three four five six seven eight", delay=0.15, reasoning="hm")
    )
    turn = await _begin(user.id, model_id, "Count")
    early = asyncio.ensure_future(_watch(turn))
    async for batch in turn.batches():
        if "three" in batch.text:
            break
    late = await _watch(turn)
    outcome = await turn.outcome()
    early_batches = await early
    assert "".join(b.text for b in early_batches) == outcome.content
    assert "".join(b.reasoning for b in early_batches) == outcome.reasoning == "hm"
    assert len(early_batches) > 2
    # The late reader's first batch holds everything said before it came.
    assert late[0].text.startswith("one two three")
    assert "".join(b.text for b in late) == outcome.content
    # A watcher of a turn that has ended gets the whole reply at once.
    assert [b.text for b in await _watch(turn)] == [outcome.content]


async def _watch(turn: RunningTurn) -> list[Batch]:
    return [batch async for batch in turn.watch()]
