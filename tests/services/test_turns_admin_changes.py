"""An admin changes a model or its provider while a reply streams: the reply finishes on the
configuration it started with and records it; the next message uses the new one."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import Conversation, Message, MessageStatus
from llm_chat.providers import ProviderError
from llm_chat.services import catalog, turns, usage
from llm_chat.services.access import SYSTEM
from llm_chat.services.catalog import ModelSettings
from llm_chat.services.turns import ReplyOutcome, RunningTurn
from tests.fake_provider import FakeProvider, RecordedRequest, ReplySpec, generated_tokens
from tests.state.helpers import stored_messages
from tests.support.factories import make_model, make_user, usage_records

TOKENS = 40
# About 0.8 s of reply: long enough for an admin's change to land in the middle of it.
SLOW = ReplySpec(token_count=TOKENS, delay=0.02)
WHOLE = "".join(generated_tokens(TOKENS))


def _stored(message_id: int) -> Message:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


async def _stream_while(
    turn: RunningTurn, provider: FakeProvider, change: Callable[[], Awaitable[None]]
) -> ReplyOutcome:
    """Read the reply; once its first batch is in, ``change`` the catalog, the provider
    still streaming."""
    texts: list[str] = []
    async for batch in turn.batches():
        if not texts:
            [request] = provider.chat_requests
            await change()
            assert not request.finished, "the change came after the reply"
        texts.append(batch.text)
    outcome = await turn.outcome()
    assert "".join(texts) == outcome.content
    return outcome


async def _answer(turn: RunningTurn) -> ReplyOutcome:
    async for _ in turn.batches():
        pass
    return await turn.outcome()


def _answered_whole(provider: FakeProvider) -> RecordedRequest:
    """The one request so far, sent once and answered to its end."""
    [request] = provider.wait_for_requests(1)
    assert request.completed
    assert not request.client_disconnected
    assert request.tokens_sent == TOKENS
    return request


async def test_a_model_edited_meanwhile(app_db: Engine, provider: FakeProvider) -> None:
    user = make_user()
    model_id = make_model(
        provider.base_url,
        "old-model",
        provider_name="Loopback",
        display_name="Old name",
        system_prompt="Old prompt.",
        temperature=0.3,
        price_input=Decimal("1"),
        price_output=Decimal("2"),
    )
    provider.enqueue(SLOW)
    turn = await turns.start_turn(
        user_id=user.id, conversation_id=None, model=model_id, text="Before"
    )

    async def edit() -> None:
        info = await catalog.get_model(actor=SYSTEM, model_id=model_id)
        settings = dataclasses.replace(
            ModelSettings.of(info),
            display_name="New name",
            model_name="new-model",
            system_prompt="New prompt.",
            temperature=0.9,
            price_input=Decimal("5"),
            price_output=Decimal("10"),
        )
        await catalog.update_model(actor=SYSTEM, model_id=model_id, settings=settings)

    outcome = await _stream_while(turn, provider, edit)
    assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, WHOLE)
    request = _answered_whole(provider)
    assert (request.model, request.temperature) == ("old-model", 0.3)
    assert request.messages[0] == {"role": "system", "content": "Old prompt."}
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content, reply.model_id) == ("complete", WHOLE, model_id)
    assert (reply.model_name, reply.provider_name) == ("Old name", "Loopback")
    # Its cost at the prices when it started.
    [record] = usage_records(user.id)
    assert record.model_name == "Old name"
    assert record.completion_tokens == TOKENS
    old_cost = usage.cost_nanos(
        record.prompt_tokens, record.completion_tokens, Decimal("1"), Decimal("2")
    )
    assert record.cost_nanos == old_cost

    # The conversation's next message goes out as the model is now.
    later = await turns.start_turn(
        user_id=user.id, conversation_id=turn.conversation_id, model=None, text="After"
    )
    assert (await _answer(later)).status == MessageStatus.COMPLETE
    sent = provider.last_request
    assert sent is not None
    assert (sent.model, sent.temperature) == ("new-model", 0.9)
    assert sent.messages == [
        {"role": "system", "content": "New prompt."},
        {"role": "user", "content": "Before"},
        {"role": "assistant", "content": WHOLE},
        {"role": "user", "content": "After"},
    ]
    assert _stored(later.reply_message_id).model_name == "New name"
    newer = usage_records(user.id)[-1]
    assert newer.cost_nanos == usage.cost_nanos(
        newer.prompt_tokens, newer.completion_tokens, Decimal("5"), Decimal("10")
    )


async def test_a_model_deleted_meanwhile(app_db: Engine, provider: FakeProvider) -> None:
    user = make_user()
    # The first model is the default: deleting it makes the other one default.
    doomed = make_model(
        provider.base_url, "doomed-model", provider_name="Doomed's", display_name="Doomed"
    )
    keeper = make_model(
        provider.base_url, "keeper-model", provider_name="Keeper's", display_name="Keeper"
    )
    provider.enqueue(SLOW)
    turn = await turns.start_turn(user_id=user.id, conversation_id=None, model=doomed, text="Q1")

    async def delete() -> None:
        await catalog.delete_model(actor=SYSTEM, model_id=doomed)

    outcome = await _stream_while(turn, provider, delete)
    assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, WHOLE)
    assert _answered_whole(provider).model == "doomed-model"
    reply = _stored(turn.reply_message_id)
    # The reply still names the model and provider that wrote it; its link to the model
    # went with the model.
    assert (reply.status, reply.content, reply.model_id) == ("complete", WHOLE, None)
    assert (reply.model_name, reply.provider_name) == ("Doomed", "Doomed's")

    # Asking for it by name is refused, and nothing is written or asked.
    with pytest.raises(ProviderError) as refused:
        await turns.start_turn(
            user_id=user.id, conversation_id=turn.conversation_id, model=doomed, text="Q2"
        )
    assert refused.value.code == "provider.model_unavailable"
    assert len(stored_messages(turn.conversation_id)) == 2
    assert len(provider.chat_requests) == 1
    # The conversation goes on with the default.
    later = await turns.start_turn(
        user_id=user.id, conversation_id=turn.conversation_id, model=None, text="Q2"
    )
    assert (await _answer(later)).status == MessageStatus.COMPLETE
    assert later.plan.target.model_id == keeper
    sent = provider.last_request
    assert sent is not None
    assert sent.model == "keeper-model"
    assert sent.messages[-3:] == [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": WHOLE},
        {"role": "user", "content": "Q2"},
    ]
    assert _stored(later.reply_message_id).model_name == "Keeper"


async def test_a_provider_deleted_meanwhile(app_db: Engine, provider: FakeProvider) -> None:
    user = make_user()
    other = make_model(provider.base_url, "other-model", provider_name="Other", display_name="O")
    doomed = make_model(
        provider.base_url, "doomed-model", provider_name="Doomed", display_name="Doomed model"
    )
    doomed_provider = (await catalog.get_model(actor=SYSTEM, model_id=doomed)).provider_id
    provider.enqueue(SLOW)
    turn = await turns.start_turn(user_id=user.id, conversation_id=None, model=doomed, text="Q1")

    async def delete() -> None:
        await catalog.delete_provider(actor=SYSTEM, provider_id=doomed_provider, with_models=True)

    outcome = await _stream_while(turn, provider, delete)
    assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, WHOLE)
    assert _answered_whole(provider).model == "doomed-model"
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.content, reply.model_id) == ("complete", WHOLE, None)
    assert (reply.model_name, reply.provider_name) == ("Doomed model", "Doomed")
    assert usage_records(user.id)[0].model_name == "Doomed model"

    later = await turns.start_turn(
        user_id=user.id, conversation_id=turn.conversation_id, model=None, text="Q2"
    )
    assert (await _answer(later)).status == MessageStatus.COMPLETE
    assert later.plan.target.model_id == other
    last = _stored(later.reply_message_id)
    assert (last.model_name, last.provider_name) == ("O", "Other")


@pytest.mark.parametrize("moves", [False, True], ids=["new-key", "new-host-and-key"])
async def test_a_provider_given_a_new_key_meanwhile(
    app_db: Engine, provider: FakeProvider, moves: bool
) -> None:
    user = make_user()
    provider.api_key = "sk-old"  # the provider refuses any other key
    model_id = make_model(provider.base_url, api_key="sk-old", provider_name="Loopback")
    provider_id = (await catalog.get_model(actor=SYSTEM, model_id=model_id)).provider_id
    with FakeProvider(api_key="sk-new") as new_host:
        provider.enqueue(SLOW)
        turn = await turns.start_turn(
            user_id=user.id, conversation_id=None, model=model_id, text="Before"
        )

        async def rotate() -> None:
            await catalog.update_provider(
                actor=SYSTEM,
                provider_id=provider_id,
                name="Loopback renamed",
                base_url=new_host.base_url if moves else None,
                api_key="sk-new",
            )
            if not moves:
                provider.api_key = "sk-new"  # the old key is revoked at the provider too

        outcome = await _stream_while(turn, provider, rotate)
        assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, WHOLE)
        request = _answered_whole(provider)
        assert request.headers["authorization"] == "Bearer sk-old"
        assert new_host.chat_requests == []
        reply = _stored(turn.reply_message_id)
        assert (reply.status, reply.content) == ("complete", WHOLE)
        assert reply.provider_name == "Loopback"

        later = await turns.start_turn(
            user_id=user.id, conversation_id=turn.conversation_id, model=None, text="After"
        )
        assert (await _answer(later)).status == MessageStatus.COMPLETE
        where = new_host if moves else provider
        sent = where.last_request
        assert sent is not None
        assert sent.headers["authorization"] == "Bearer sk-new"
        assert sent.messages[-1] == {"role": "user", "content": "After"}
        assert len(provider.chat_requests) == (1 if moves else 2)
        assert _stored(later.reply_message_id).provider_name == "Loopback renamed"


async def test_a_model_deleted_before_the_provider_answered(
    app_db: Engine, provider: FakeProvider
) -> None:
    """Deleted after the request went out, before the turn's rows are written (they wait
    for the provider's answer): the reply is saved all the same."""
    user = make_user()
    doomed = make_model(provider.base_url, "doomed-model", display_name="Doomed")
    make_model(provider.base_url, "keeper-model", display_name="Keeper")
    provider.enqueue(ReplySpec(text="Saved anyway", headers_delay=0.2))
    opening = asyncio.ensure_future(
        turns.start_turn(user_id=user.id, conversation_id=None, model=doomed, text="Quick")
    )
    await asyncio.to_thread(provider.wait_for_requests, 1, finished=False)
    await catalog.delete_model(actor=SYSTEM, model_id=doomed)
    assert not opening.done()
    turn = await opening
    outcome = await _answer(turn)
    assert (outcome.status, outcome.content) == (MessageStatus.COMPLETE, "Saved anyway")
    reply = _stored(turn.reply_message_id)
    assert (reply.status, reply.model_id, reply.model_name) == ("complete", None, "Doomed")
    with session_scope() as session:
        conversation = session.get(Conversation, turn.conversation_id)
        assert conversation is not None
        assert conversation.model_id is None
    assert usage_records(user.id)[0].model_id is None
