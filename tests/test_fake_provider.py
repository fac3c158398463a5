"""Tests for the loopback fake OpenAI provider, driven through the real openai SDK."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fake_provider import (
    GENERATED_TOKEN_BYTES,
    FakeProvider,
    ReplySpec,
    echo_text,
    generated_reasoning_tokens,
    generated_tokens,
    parse_model_options,
    split_model_id,
    split_tokens,
)

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello big world"}]


@pytest.fixture
def fp() -> Iterator[FakeProvider]:
    """A running fake provider, stopped after the test."""
    with FakeProvider() as provider:
        yield provider


def client_for(provider: FakeProvider, api_key: str = "sk-anything") -> openai.AsyncOpenAI:
    """Build an SDK client pointed at the fake provider, without retries."""
    return openai.AsyncOpenAI(
        base_url=provider.base_url, api_key=api_key, max_retries=0, timeout=10.0
    )


async def collect_stream(
    provider: FakeProvider, model: str = "fake-model", **kwargs: Any
) -> tuple[list[Any], list[str]]:
    """Run one streaming completion and return (all chunks, content tokens)."""
    async with client_for(provider) as client:
        stream = await client.chat.completions.create(
            model=model, messages=kwargs.pop("messages", USER), stream=True, **kwargs
        )
        chunks = [chunk async for chunk in stream]
    tokens = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    return chunks, tokens


async def drain_contents(stream: Any, received: list[str]) -> None:
    """Consume an SDK stream, appending each content delta to ``received``."""
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received.append(chunk.choices[0].delta.content)


async def drain_chunks(stream: Any, received: list[Any]) -> None:
    """Consume an SDK stream, appending every chunk to ``received``."""
    async for chunk in stream:
        received.append(chunk)


# --------------------------------------------------------------------------- helpers


def test_split_tokens_roundtrip() -> None:
    text = "Echo:  hello big\nworld  "
    tokens = split_tokens(text)
    assert "".join(tokens) == text
    assert tokens[0] == "Echo:"
    assert split_tokens("") == []
    assert split_tokens("   ") == ["   "]


def test_generated_tokens_fixed_byte_size() -> None:
    tokens = generated_tokens(1000)
    assert len(tokens) == 1000
    assert all(len(t.encode()) == GENERATED_TOKEN_BYTES for t in tokens)
    assert all(t.startswith(" ") and len(t.split()) == 1 for t in tokens)
    assert generated_tokens(1000) == tokens  # deterministic
    assert generated_tokens(0) == []


def test_echo_text_uses_last_user_message() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "reply"},
            {"role": "user", "content": [{"type": "text", "text": "second"}]},
            {"role": "assistant", "content": "dangling"},
        ]
    }
    assert echo_text(body) == "Echo: second"
    assert echo_text({}) == "Echo: "


def test_parse_model_options() -> None:
    spec = parse_model_options("fake?tokens=1000&delay=0.02&first=0.3&drop_after=5&status=429")
    assert spec == ReplySpec(
        token_count=1000, delay=0.02, first_token_delay=0.3, drop_after=5, status=429
    )
    assert parse_model_options("fake-model") is None
    assert parse_model_options("fake?") is None
    spec = parse_model_options("fake?text=Hi+there%21&error_after=1&message=boom")
    assert spec == ReplySpec(text="Hi there!", error_after=1, error_message="boom")
    assert split_model_id("fake?tokens=3") == ("fake", "tokens=3")
    with pytest.raises(ValueError, match="unknown"):
        parse_model_options("fake?bogus=1")
    with pytest.raises(ValueError, match="bad value"):
        parse_model_options("fake?tokens=lots")


def test_generated_reasoning_tokens_fixed_size_and_unlike_content() -> None:
    tokens = generated_reasoning_tokens(100)
    assert len(tokens) == 100
    assert all(len(t.encode()) == GENERATED_TOKEN_BYTES for t in tokens)
    assert generated_reasoning_tokens(100) == tokens  # deterministic
    assert not set(tokens) & set(generated_tokens(100))  # reasoning is never taken for content
    assert generated_reasoning_tokens(0) == []


def test_parse_model_options_reasoning() -> None:
    counted = ReplySpec(reasoning_token_count=20, token_count=30)
    assert parse_model_options("fake?reasoning=20&tokens=30") == counted
    assert counted.resolve_reasoning() == generated_reasoning_tokens(20)
    written = ReplySpec(reasoning="Let me think", reasoning_field="reasoning")
    assert (
        parse_model_options("fake?reasoning_text=Let+me+think&reasoning_field=reasoning") == written
    )
    assert written.resolve_reasoning() == ["Let", " me", " think"]
    assert ReplySpec(text="no thinking").resolve_reasoning() == []
    # The count wins over the text, as token_count does over text.
    both = ReplySpec(reasoning="ignored", reasoning_token_count=2)
    assert both.resolve_reasoning() == generated_reasoning_tokens(2)
    with pytest.raises(ValueError, match="bad value"):
        parse_model_options("fake?reasoning=deep")


# --------------------------------------------------------------------------- streaming


@pytest.mark.asyncio
async def test_stream_default_echo(fp: FakeProvider) -> None:
    chunks, tokens = await collect_stream(fp, stream_options={"include_usage": True})

    assert tokens == ["Echo:", " hello", " big", " world"]
    first = chunks[0]
    assert first.object == "chat.completion.chunk"
    assert first.choices[0].index == 0
    assert first.choices[0].delta.role == "assistant"
    assert all(c.id == first.id for c in chunks)
    assert all(c.model == "fake-model" for c in chunks)

    finish, usage = chunks[-2], chunks[-1]
    assert finish.choices[0].finish_reason == "stop"
    assert finish.choices[0].delta.content is None
    assert finish.choices[0].delta.role is None
    assert all(c.choices[0].finish_reason is None for c in chunks[:-2])
    assert usage.choices == []
    assert usage.usage is not None
    assert usage.usage.completion_tokens == 4
    assert usage.usage.total_tokens == usage.usage.prompt_tokens + 4

    (rec,) = fp.wait_for_requests(1)
    assert rec.completed
    assert not rec.client_disconnected
    assert not rec.dropped
    assert rec.tokens_sent == 4
    assert rec.text_sent == "Echo: hello big world"
    assert rec.finish_reason == "stop"


@pytest.mark.asyncio
async def test_stream_without_usage_has_no_usage_chunk(fp: FakeProvider) -> None:
    chunks, _ = await collect_stream(fp)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


@pytest.mark.asyncio
async def test_raw_sse_wire_format(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(tokens=["a", "é"]))
    body = {"model": "fake-model", "stream": True, "messages": USER}
    async with (
        httpx.AsyncClient() as http,
        http.stream("POST", f"{fp.base_url}/chat/completions", json=body) as resp,
    ):
        raw = (await resp.aread()).decode()
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["cache-control"] == "no-cache"
    events = raw.split("\n\n")
    assert events[-1] == ""
    assert events[-2] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events[:-1])
    assert '"content":"é"' in raw


@pytest.mark.asyncio
async def test_explicit_tokens_and_max_tokens_length(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(token_count=50))
    chunks, tokens = await collect_stream(fp, max_tokens=10)
    assert tokens == generated_tokens(10)
    assert chunks[-1].choices[0].finish_reason == "length"
    assert fp.wait_for_requests(1)[0].finish_reason == "length"


@pytest.mark.asyncio
async def test_non_stream_completion(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(text="Hello there, human."))
    async with client_for(fp) as client:
        resp = await client.chat.completions.create(model="fake-model", messages=USER)
        echo = await client.chat.completions.create(model="fake-model", messages=USER)
    assert resp.object == "chat.completion"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.content == "Hello there, human."
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None
    assert resp.usage.completion_tokens == 3
    assert echo.choices[0].message.content == "Echo: hello big world"
    recs = fp.wait_for_requests(2)
    assert all(r.completed and not r.stream for r in recs)


@pytest.mark.asyncio
async def test_records_full_history(fp: FakeProvider) -> None:
    history: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "Echo: one"},
        {"role": "user", "content": "two"},
    ]
    async with client_for(fp, api_key="sk-rec") as client:
        stream = await client.chat.completions.create(
            model="fake-model-large",
            messages=history,
            stream=True,
            temperature=0.3,
            max_tokens=64,
        )
        async for _ in stream:
            pass
    rec = fp.wait_for_requests(1)[0]
    assert rec is fp.last_request
    assert rec.messages == history
    assert rec.model == "fake-model-large"
    assert rec.temperature == 0.3
    assert rec.max_tokens == 64
    assert rec.stream is True
    assert rec.headers["authorization"] == "Bearer sk-rec"
    assert rec.text_sent == "Echo: two"
    assert fp.chat_requests == [rec]


def reasoning_of(chunk: Any, field: str = "reasoning_content") -> str | None:
    """The reasoning delta of an SDK chunk (an extra field the SDK keeps as an attribute)."""
    if not chunk.choices:
        return None
    return getattr(chunk.choices[0].delta, field, None)


@pytest.mark.asyncio
async def test_stream_reasoning_before_content(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(reasoning="Let me think, 好.", text="The answer.", delay=0.01))
    start = time.monotonic()
    chunks, tokens = await collect_stream(fp, stream_options={"include_usage": True})
    elapsed = time.monotonic() - start

    deltas = [(reasoning_of(c), c.choices[0].delta.content) for c in chunks[1:-2]]
    assert deltas == [
        ("Let", None),
        (" me", None),
        (" think,", None),
        (" 好.", None),
        (None, "The"),
        (None, " answer."),
    ]  # all the thinking first, with a null content (DeepSeek's shape)
    assert tokens == ["The", " answer."]
    assert 0.04 <= elapsed < 1.5  # one schedule: 5 gaps of 10 ms across both parts

    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == 6  # reasoning tokens count, as with DeepSeek
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 4

    (rec,) = fp.wait_for_requests(1)
    assert rec.completed
    assert (rec.reasoning_sent, rec.tokens_sent) == (4, 2)
    assert rec.reasoning_text_sent == "Let me think, 好."
    assert rec.text_sent == "The answer."
    assert rec.messages == USER


@pytest.mark.asyncio
async def test_raw_sse_reasoning_wire_format(fp: FakeProvider) -> None:
    fp.enqueue(
        ReplySpec(reasoning="hm", tokens=["a"]),
        ReplySpec(reasoning="hm", tokens=["a"], reasoning_field="reasoning"),
    )
    body = {"model": "fake-model", "stream": True, "messages": USER}
    async with httpx.AsyncClient() as http:
        deepseek = (await http.post(f"{fp.base_url}/chat/completions", json=body)).text
        vllm = (await http.post(f"{fp.base_url}/chat/completions", json=body)).text
    assert '"delta":{"content":null,"reasoning_content":"hm"}' in deepseek
    assert '"delta":{"content":"a","reasoning_content":null}' in deepseek
    assert '"delta":{"content":null,"reasoning":"hm"}' in vllm
    assert '"delta":{"content":"a","reasoning":null}' in vllm


@pytest.mark.asyncio
async def test_non_stream_reasoning(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(reasoning="Thinking hard.", text="Done."))
    async with client_for(fp) as client:
        resp = await client.chat.completions.create(model="fake-model", messages=USER)
        vllm = await client.chat.completions.create(
            model="fake?reasoning=3&tokens=2&reasoning_field=reasoning", messages=USER
        )
        plain = await client.chat.completions.create(model="fake-model", messages=USER)
    message = resp.choices[0].message
    assert (message.content, getattr(message, "reasoning_content", None)) == (
        "Done.",
        "Thinking hard.",
    )
    assert resp.usage is not None
    assert resp.usage.completion_tokens == 3
    assert getattr(vllm.choices[0].message, "reasoning", None) == "".join(
        generated_reasoning_tokens(3)
    )
    assert vllm.choices[0].message.content == "".join(generated_tokens(2))
    assert getattr(plain.choices[0].message, "reasoning_content", None) is None
    first = fp.wait_for_requests(3)[0]
    assert (first.reasoning_sent, first.tokens_sent) == (2, 1)


@pytest.mark.asyncio
async def test_error_after_counts_reasoning_tokens_first(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(reasoning_token_count=5, token_count=5, error_after=3))
    async with client_for(fp) as client:
        stream = await client.chat.completions.create(
            model="fake-model", messages=USER, stream=True
        )
        chunks: list[Any] = []
        with pytest.raises(openai.APIError):
            await drain_chunks(stream, chunks)
    assert [reasoning_of(c) for c in chunks[1:]] == generated_reasoning_tokens(3)
    rec = fp.wait_for_requests(1)[0]
    assert (rec.reasoning_sent, rec.tokens_sent) == (3, 0)
    assert not rec.completed


# --------------------------------------------------------------------------- errors


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
        (400, openai.BadRequestError),
    ],
)
async def test_http_status_errors(
    fp: FakeProvider, status: int, exc_type: type[openai.APIStatusError]
) -> None:
    fp.enqueue(ReplySpec(status=status, error_message=f"scripted {status}"))
    async with client_for(fp) as client:
        with pytest.raises(exc_type) as info:
            await client.chat.completions.create(model="fake-model", messages=USER, stream=True)
    assert info.value.status_code == status
    assert "scripted" in info.value.message
    body = info.value.body
    assert isinstance(body, dict)
    assert body["message"] == f"scripted {status}"
    assert fp.wait_for_requests(1)[0].status == status


@pytest.mark.asyncio
async def test_api_key_check() -> None:
    with FakeProvider(api_key="sk-test") as provider:
        async with client_for(provider, api_key="sk-wrong") as bad:
            with pytest.raises(openai.AuthenticationError) as info:
                await bad.chat.completions.create(model="fake-model", messages=USER)
            with pytest.raises(openai.AuthenticationError):
                await bad.models.list()
        assert info.value.status_code == 401
        assert info.value.code == "invalid_api_key"
        async with client_for(provider, api_key="sk-test") as good:
            resp = await good.chat.completions.create(model="fake-model", messages=USER)
        assert resp.choices[0].message.content == "Echo: hello big world"
        assert [r.status for r in provider.wait_for_requests(3)] == [401, 401, 200]


@pytest.mark.asyncio
async def test_drop_after_raises_connection_error(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(token_count=20, drop_after=3))
    received: list[str] = []
    async with client_for(fp) as client:
        stream = await client.chat.completions.create(
            model="fake-model", messages=USER, stream=True
        )
        # The SDK raises openai.APIConnectionError ("Connection error."), caused by
        # httpx RemoteProtocolError "peer closed connection without sending complete
        # message body (incomplete chunked read)".
        with pytest.raises(openai.APIConnectionError) as info:
            await drain_contents(stream, received)
    assert received == generated_tokens(3)
    assert type(info.value.__cause__).__name__ == "RemoteProtocolError"
    rec = fp.wait_for_requests(1)[0]
    assert rec.dropped
    assert not rec.completed
    assert not rec.client_disconnected
    assert rec.tokens_sent == 3


@pytest.mark.asyncio
async def test_error_after_raises_api_error(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(token_count=20, error_after=4, error_message="overloaded mid-stream"))
    received: list[str] = []
    async with client_for(fp) as client:
        stream = await client.chat.completions.create(
            model="fake-model", messages=USER, stream=True
        )
        # The in-stream `data: {"error": ...}` event makes the SDK raise the base
        # openai.APIError (not an APIStatusError subclass; the HTTP status was 200).
        with pytest.raises(openai.APIError, match="overloaded mid-stream") as info:
            await drain_contents(stream, received)
    assert type(info.value) is openai.APIError
    assert received == generated_tokens(4)
    rec = fp.wait_for_requests(1)[0]
    assert rec.tokens_sent == 4
    assert not rec.completed
    assert not rec.client_disconnected


@pytest.mark.asyncio
async def test_non_stream_drop_and_error(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(token_count=5, drop_after=2), ReplySpec(token_count=5, error_after=2))
    async with client_for(fp) as client:
        with pytest.raises(openai.APIConnectionError):
            await client.chat.completions.create(model="fake-model", messages=USER)
        # Non-stream error_after has no stream to break: it becomes an HTTP 500.
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(model="fake-model", messages=USER)
    dropped, errored = fp.wait_for_requests(2)
    assert dropped.dropped
    assert errored.status == 500


# --------------------------------------------------------------------------- timing


@pytest.mark.asyncio
async def test_delay_between_tokens(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(token_count=20, delay=0.02))
    start = time.monotonic()
    _, tokens = await collect_stream(fp)
    elapsed = time.monotonic() - start
    assert len(tokens) == 20
    # 19 gaps of 20 ms; loose bounds, this is not a benchmark.
    assert 0.3 <= elapsed < 1.5


@pytest.mark.asyncio
async def test_first_token_delay(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(text="slow start", first_token_delay=0.3))
    start = time.monotonic()
    first_content_at: float | None = None
    async with client_for(fp) as client:
        stream = await client.chat.completions.create(
            model="fake-model", messages=USER, stream=True
        )
        async for chunk in stream:
            if first_content_at is None and chunk.choices and chunk.choices[0].delta.content:
                first_content_at = time.monotonic() - start
    assert first_content_at is not None
    assert first_content_at >= 0.28


# --------------------------------------------------------------------------- disconnect


@pytest.mark.asyncio
async def test_client_close_marks_disconnected(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(token_count=100, delay=0.05))
    received = 0
    async with client_for(fp) as client:
        stream = await client.chat.completions.create(
            model="fake-model", messages=USER, stream=True
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received += 1
                if received == 3:
                    break
        await stream.close()
        rec = fp.wait_for_requests(1, timeout=3.0)[0]
    assert rec.client_disconnected is True
    assert rec.completed is False
    assert 3 <= rec.tokens_sent < 10


@pytest.mark.asyncio
async def test_client_close_during_first_token_delay(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(text="never", first_token_delay=5.0))
    async with client_for(fp) as client:
        stream = await client.chat.completions.create(
            model="fake-model", messages=USER, stream=True
        )
        await stream.close()
        start = time.monotonic()
        rec = fp.wait_for_requests(1, timeout=3.0)[0]
    assert time.monotonic() - start < 2.0
    assert rec.client_disconnected
    assert not rec.completed
    assert rec.tokens_sent == 0


# --------------------------------------------------------------------------- scripting


@pytest.mark.asyncio
async def test_model_id_options_end_to_end(fp: FakeProvider) -> None:
    chunks, tokens = await collect_stream(fp, model="fake?tokens=7&delay=0.001")
    assert tokens == generated_tokens(7)
    assert len("".join(tokens).encode()) == 7 * GENERATED_TOKEN_BYTES
    assert chunks[0].model == "fake"  # options are stripped from the echoed model id

    async with client_for(fp) as client:
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model="fake?status=429", messages=USER)
        with pytest.raises(openai.BadRequestError, match="unknown fake model option"):
            await client.chat.completions.create(model="fake?nope=1", messages=USER)

    # Enqueued specs win over model-id options.
    fp.enqueue(ReplySpec(text="queued wins"))
    _, tokens = await collect_stream(fp, model="fake?tokens=7")
    assert "".join(tokens) == "queued wins"
    assert fp.wait_for_requests(4)[-1].model == "fake?tokens=7"


@pytest.mark.asyncio
async def test_queue_default_and_reset(fp: FakeProvider) -> None:
    fp.enqueue(ReplySpec(text="one"), ReplySpec(text="two"))
    assert fp.pending == 2
    fp.default = ReplySpec(text="fallback")
    replies = [("".join((await collect_stream(fp))[1])) for _ in range(3)]
    assert replies == ["one", "two", "fallback"]
    assert len(fp.requests) == 3

    fp.enqueue(ReplySpec(text="stale"))
    fp.reset()
    assert fp.requests == []
    assert fp.pending == 0
    assert fp.last_request is None
    _, tokens = await collect_stream(fp)
    assert "".join(tokens) == "Echo: hello big world"
    with pytest.raises(TimeoutError):
        fp.wait_for_requests(2, timeout=0.1)


@pytest.mark.asyncio
async def test_models_list(fp: FakeProvider) -> None:
    async with client_for(fp) as client:
        page = await client.models.list()
    ids = [m.id for m in page.data]
    assert "fake-model" in ids
    assert len(ids) >= 2
    assert fp.wait_for_requests(1)[0].path == "/v1/models"
    assert fp.chat_requests == []


@pytest.mark.asyncio
async def test_concurrent_streams(fp: FakeProvider) -> None:
    fp.default = ReplySpec(token_count=20, delay=0.01)

    async with client_for(fp) as client:  # one client: SDK client creation is slow

        async def one() -> list[str]:
            stream = await client.chat.completions.create(
                model="fake-model", messages=USER, stream=True
            )
            received: list[str] = []
            await drain_contents(stream, received)
            return received

        results = await asyncio.gather(*(one() for _ in range(30)))
    assert all(tokens == generated_tokens(20) for tokens in results)
    assert all(r.completed for r in fp.wait_for_requests(30))


def test_sync_client_and_restart() -> None:
    provider = FakeProvider()
    provider.start()
    try:
        client = openai.OpenAI(base_url=provider.base_url, api_key="x", max_retries=0)
        with client:
            resp = client.chat.completions.create(model="fake-model", messages=USER)
        assert resp.choices[0].message.content == "Echo: hello big world"
        with pytest.raises(RuntimeError, match="already started"):
            provider.start()
    finally:
        provider.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = provider.base_url
    provider.stop()  # idempotent


def test_stop_with_stream_in_flight() -> None:
    provider = FakeProvider(default=ReplySpec(token_count=1000, delay=0.1)).start()
    with httpx.Client() as http:
        body = {"model": "fake-model", "stream": True, "messages": USER}
        with http.stream("POST", f"{provider.base_url}/chat/completions", json=body) as resp:
            assert resp.status_code == 200
            provider.wait_for_requests(1, finished=False)
            start = time.monotonic()
            provider.stop()
            assert time.monotonic() - start < 3.0
