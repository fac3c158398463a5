"""The OpenAI-compatible gateway, driven by the official ``openai`` SDK over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from llm_chat.db import session_scope
from llm_chat.services import api_keys, conversations
from tests.api.conftest import Caller
from tests.fake_provider import (
    FakeProvider,
    ReplySpec,
    generated_reasoning_tokens,
    generated_tokens,
)
from tests.support.factories import make_model
from tests.support.reflex_server import ReflexServer


@pytest.fixture
async def sdk(live: ReflexServer, alice: Caller) -> AsyncIterator[openai.AsyncOpenAI]:
    """An OpenAI client with one of Alice's personal API keys."""
    with session_scope() as session:
        key = api_keys.create_api_key.within(session, user_id=alice.user.id, name="sdk").secret
    client = openai.AsyncOpenAI(base_url=f"{live.url}/v1", api_key=key, max_retries=0)
    yield client
    await client.close()


@pytest.fixture
def model_id(provider: FakeProvider) -> int:
    """A model with a system prompt of its own."""
    return make_model(provider.base_url, "fake-model", system_prompt="Be brief.")


def _saved(user_id: int) -> list[list[tuple[str, str, str]]]:
    with session_scope() as session:
        listed = conversations.list_conversations.within(session, user_id=user_id)
        return [
            [
                (m.role, m.content, m.status)
                for m in conversations.list_messages.within(
                    session, user_id=user_id, conversation_id=c.id
                )
            ]
            for c in listed
        ]


async def test_a_whole_reply_in_openai_s_format_is_saved(
    sdk: openai.AsyncOpenAI, alice: Caller, provider: FakeProvider, model_id: int
) -> None:
    raw = await sdk.chat.completions.with_raw_response.create(
        model="fake-model",
        messages=[
            {"role": "system", "content": "You are a tea expert."},
            {"role": "user", "content": "Green or black?"},
            {"role": "assistant", "content": "Green."},
            {"role": "user", "content": [{"type": "text", "text": "Why green?"}]},
        ],
        temperature=0.3,
    )
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "fake-model"
    assert completion.choices[0].message.content == "Echo: Why green?"
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens == 3
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    sent = provider.last_request
    assert sent is not None
    assert sent.temperature == 0.3
    assert sent.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "You are a tea expert."},
        {"role": "user", "content": "Green or black?"},
        {"role": "assistant", "content": "Green."},
        {"role": "user", "content": "Why green?"},
    ]
    assert _saved(alice.user.id) == [
        [
            ("user", "Green or black?", "complete"),
            ("assistant", "Green.", "complete"),
            ("user", "Why green?", "complete"),
            ("assistant", "Echo: Why green?", "complete"),
        ]
    ]
    with session_scope() as session:
        (listed,) = conversations.list_conversations.within(session, user_id=alice.user.id)
    assert raw.headers["x-conversation-id"] == str(listed.id)
    assert listed.title == "Green or black?"


async def test_a_streamed_reply_in_chunks_with_usage(
    sdk: openai.AsyncOpenAI, alice: Caller, provider: FakeProvider, model_id: int
) -> None:
    provider.enqueue(ReplySpec(tokens=["Steep ", "for\n", "three ", "minutes."], delay=0.05))
    stream = await sdk.chat.completions.create(
        model="fake-model",
        messages=[{"role": "user", "content": "How long?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Steep for\nthree minutes."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    assert _saved(alice.user.id) == [
        [("user", "How long?", "complete"), ("assistant", "Steep for\nthree minutes.", "complete")]
    ]


async def test_clients_can_opt_out_of_saving(
    sdk: openai.AsyncOpenAI, alice: Caller, model_id: int
) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Off the record"}]
    raw = await sdk.chat.completions.with_raw_response.create(
        model="fake-model", messages=messages, extra_body={"store": False}
    )
    assert raw.parse().choices[0].message.content == "Echo: Off the record"
    assert "x-conversation-id" not in raw.headers
    stream = await sdk.chat.completions.create(
        model="fake-model",
        messages=messages,
        stream=True,
        extra_headers={"X-LLM-Chat-Save": "false"},
    )
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert _saved(alice.user.id) == []


async def test_models_are_listed_and_found_by_either_name(
    sdk: openai.AsyncOpenAI, provider: FakeProvider
) -> None:
    make_model(provider.base_url, "fake-model-large")
    page = await sdk.models.list()
    assert [m.id for m in page.data] == ["fake-model-large"]
    assert page.data[0].owned_by.startswith("Provider")
    reply = await sdk.chat.completions.create(
        model="fake-model-large", messages=[{"role": "user", "content": "Hi"}]
    )
    assert reply.choices[0].message.content == "Echo: Hi"


async def test_failures_are_openai_errors(
    sdk: openai.AsyncOpenAI, live: ReflexServer, provider: FakeProvider, model_id: int
) -> None:
    hello: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]
    with pytest.raises(openai.NotFoundError) as missing:
        await sdk.chat.completions.create(model="gpt-17", messages=hello)
    assert missing.value.code == "model_not_found"
    provider.enqueue(ReplySpec(status=429), ReplySpec(status=429))
    with pytest.raises(openai.RateLimitError):
        await sdk.chat.completions.create(model="fake-model", messages=hello, stream=True)
    with pytest.raises(openai.UnprocessableEntityError):
        await sdk.chat.completions.create(
            model="fake-model", messages=[*hello, {"role": "assistant", "content": "Hi!"}]
        )
    with pytest.raises(openai.UnprocessableEntityError):
        await sdk.chat.completions.create(model="fake-model", messages=[{"role": "user"}])  # type: ignore[typeddict-item]
    provider.enqueue(ReplySpec(tokens=["Half ", "a ", "reply"], error_after=2))
    stream = await sdk.chat.completions.create(model="fake-model", messages=hello, stream=True)
    with pytest.raises(openai.APIError, match="incomplete"):
        async for _ in stream:
            pass
    stranger = openai.AsyncOpenAI(base_url=f"{live.url}/v1", api_key="llmc_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        await stranger.models.list()
    await stranger.close()


async def test_a_reasoning_model_s_thinking_comes_as_reasoning_content(
    sdk: openai.AsyncOpenAI, alice: Caller, provider: FakeProvider
) -> None:
    make_model(provider.base_url, "fake?reasoning=10&tokens=5&delay=0.002")
    stream = await sdk.chat.completions.create(
        model="fake?reasoning=10&tokens=5&delay=0.002",
        messages=[{"role": "user", "content": "Think"}],
        stream=True,
    )
    chunks = [chunk async for chunk in stream]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    thinking = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
    assert thinking == "".join(generated_reasoning_tokens(10))
    assert "".join(d.content or "" for d in deltas) == "".join(generated_tokens(5))
    whole = await sdk.chat.completions.create(
        model="fake?reasoning=10&tokens=5&delay=0.002",
        messages=[{"role": "user", "content": "Think again"}],
    )
    message = whole.choices[0].message
    assert getattr(message, "reasoning_content", None) == thinking
    assert message.content == "".join(generated_tokens(5))
    assert whole.usage is not None
    assert whole.usage.model_dump()["dropped_messages"] == 0
