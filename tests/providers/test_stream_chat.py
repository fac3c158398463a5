"""Reading a provider's stream through the SDK's raw response, against the loopback provider."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import openai
import pytest
from aiohttp import web

from llm_chat.providers import (
    ChatMessage,
    ModelTarget,
    StreamStats,
    classify_provider_error,
    stream_pieces,
)
from tests.fake_provider import FakeProvider, ReplySpec

pytestmark = pytest.mark.asyncio


async def stream_chat(
    target: ModelTarget, messages: list[ChatMessage], **options: Any
) -> AsyncGenerator[str, None]:
    """The answer's text of :func:`stream_pieces`; closing it closes the stream."""
    pieces = stream_pieces(target, messages, **options)
    async with contextlib.aclosing(pieces):
        async for piece in pieces:
            if piece.text:
                yield piece.text


def target(provider: FakeProvider) -> ModelTarget:
    return ModelTarget(
        model_id=1,
        display_name="Fake",
        base_url=provider.base_url,
        api_key="sk-test",
        model_name="fake-model",
    )


async def read(provider: FakeProvider, stats: StreamStats | None = None) -> list[str]:
    history = [{"role": "user", "content": "Hi"}]
    return [piece async for piece in stream_chat(target(provider), history, stats=stats)]  # type: ignore[arg-type]


async def test_pieces_in_order_with_usage_and_finish_reason(provider: FakeProvider) -> None:
    tokens = ["Hello", ",", " wörld", " 你好", "\n\n- a list", ' "quoted"']
    provider.enqueue(ReplySpec(tokens=tokens, delay=0.02))
    stats = StreamStats()
    pieces = await read(provider, stats)
    assert "".join(pieces) == "".join(tokens)
    assert len(pieces) >= 3  # tokens 20 ms apart arrive in reads of their own
    assert (stats.completion_tokens, stats.finish_reason) == (len(tokens), "stop")
    assert stats.prompt_tokens


async def test_an_error_event_in_the_stream_raises_after_the_text_before_it(
    provider: FakeProvider,
) -> None:
    provider.enqueue(ReplySpec(token_count=5, error_after=3, error_message="overloaded"))
    seen: list[str] = []

    async def consume() -> None:
        async for piece in stream_chat(target(provider), [{"role": "user", "content": "Hi"}]):
            seen.append(piece)

    with pytest.raises(openai.APIError, match="overloaded") as caught:
        await consume()
    assert classify_provider_error(caught.value) == "provider.server_error"
    assert "".join(seen) == "".join(ReplySpec(token_count=5).resolve_tokens()[:3])


async def test_a_dropped_connection_is_a_connection_error(provider: FakeProvider) -> None:
    provider.enqueue(ReplySpec(token_count=50, drop_after=10))
    with pytest.raises(openai.APIConnectionError) as caught:
        await read(provider)
    assert classify_provider_error(caught.value) == "provider.unreachable"


async def test_a_provider_that_stops_sending_times_out(provider: FakeProvider) -> None:
    # Headers at once, then nothing for longer than the timeout.
    provider.enqueue(ReplySpec(token_count=3, first_token_delay=3.0))
    stream = stream_chat(
        target(provider), [{"role": "user", "content": "Hi"}], provider_timeout=0.3
    )
    with pytest.raises(openai.APITimeoutError) as caught:
        async for _ in stream:
            pass
    assert classify_provider_error(caught.value) == "provider.timeout"


async def test_a_refused_connection_is_unreachable_not_a_timeout() -> None:
    refused = ModelTarget(
        model_id=1,
        display_name="Gone",
        base_url="http://127.0.0.1:9/v1",  # nothing listens on the discard port
        api_key="sk-test",
        model_name="fake-model",
    )
    with pytest.raises(openai.APIConnectionError) as caught:
        async for _ in stream_chat(refused, [{"role": "user", "content": "Hi"}]):
            pass
    assert classify_provider_error(caught.value) == "provider.unreachable"


async def test_status_errors_still_come_from_the_sdk(provider: FakeProvider) -> None:
    spec = ReplySpec(status=429, error_message="slow down")
    provider.enqueue(spec, spec)  # the client retries once
    with pytest.raises(openai.RateLimitError):
        await read(provider)


async def test_closing_early_closes_the_providers_stream(provider: FakeProvider) -> None:
    provider.enqueue(ReplySpec(token_count=500, delay=0.01))
    stream = stream_chat(target(provider), [{"role": "user", "content": "Hi"}])
    assert await anext(stream)
    await stream.aclose()
    record = provider.last_request
    for _ in range(100):
        record = provider.last_request
        if record is not None and record.client_disconnected:
            break
        await asyncio.sleep(0.02)
    assert record is not None
    assert record.client_disconnected
    assert record.tokens_sent < 500


async def test_a_server_that_ignores_stream_gets_its_whole_reply_read() -> None:
    # Some OpenAI-compatible servers answer "stream": true with one JSON completion.
    async def completion(request: web.Request) -> web.Response:
        body = await request.json()
        assert body["stream"] is True
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Whole answer, 完整"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completion)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        plain = ModelTarget(
            model_id=1,
            display_name="Plain",
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="sk-test",
            model_name="plain",
        )
        stats = StreamStats()
        pieces = [
            p async for p in stream_chat(plain, [{"role": "user", "content": "Hi"}], stats=stats)
        ]
    finally:
        await runner.cleanup()
    assert pieces == ["Whole answer, 完整"]
    assert (stats.prompt_tokens, stats.completion_tokens, stats.finish_reason) == (4, 3, "stop")
