"""A reasoning model's thinking and answer, read as pieces, against the loopback provider."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import openai
import pytest
from aiohttp import web

from llm_chat.providers import (
    ChatMessage,
    ModelTarget,
    Piece,
    StreamStats,
    classify_provider_error,
    stream_pieces,
)
from tests.fake_provider import (
    FakeProvider,
    ReplySpec,
    generated_reasoning_tokens,
    generated_tokens,
    split_tokens,
)

pytestmark = pytest.mark.asyncio

HISTORY: list[ChatMessage] = [{"role": "user", "content": "Hi"}]


def target(provider: FakeProvider, model_name: str = "fake-model") -> ModelTarget:
    return ModelTarget(
        model_id=1,
        display_name="Fake",
        base_url=provider.base_url,
        api_key="sk-test",
        model_name=model_name,
    )


async def read(target: ModelTarget, stats: StreamStats | None = None) -> list[Piece]:
    return [piece async for piece in stream_pieces(target, HISTORY, stats=stats)]


def assert_thinking_first(pieces: list[Piece]) -> None:
    """Every piece carries something, and no answer text comes before the last reasoning."""
    assert all(piece.text or piece.reasoning for piece in pieces)
    last_reasoning = max(i for i, piece in enumerate(pieces) if piece.reasoning)
    first_text = min(i for i, piece in enumerate(pieces) if piece.text)
    assert last_reasoning <= first_text  # equal when one read held the end of both


async def test_reasoning_then_content_in_order(provider: FakeProvider) -> None:
    reasoning = 'Let me think:\n- 9.11 < 9.8, 好 "quoted"'
    tokens = ["9.8", " is", " greater", ", 更大."]
    provider.enqueue(ReplySpec(reasoning=reasoning, tokens=tokens, delay=0.02))
    stats = StreamStats()
    pieces = await read(target(provider), stats)
    assert "".join(p.reasoning for p in pieces) == reasoning
    assert "".join(p.text for p in pieces) == "".join(tokens)
    assert len(pieces) >= 4  # tokens 20 ms apart arrive in reads of their own
    assert_thinking_first(pieces)
    assert (stats.completion_tokens, stats.finish_reason) == (
        len(tokens) + len(split_tokens(reasoning)),
        "stop",
    )
    assert stats.prompt_tokens
    record = provider.wait_for_requests(1)[0]
    assert record.messages == HISTORY  # nothing but the history goes to the provider


async def test_vllm_reasoning_field(provider: FakeProvider) -> None:
    # vLLM since 0.11 names the field "reasoning" (no "reasoning_content" any more).
    model = "fake?reasoning=30&tokens=20&reasoning_field=reasoning"
    pieces = await read(target(provider, model))
    assert "".join(p.reasoning for p in pieces) == "".join(generated_reasoning_tokens(30))
    assert "".join(p.text for p in pieces) == "".join(generated_tokens(20))
    assert_thinking_first(pieces)


async def test_only_content(provider: FakeProvider) -> None:
    tokens = ["Hello", ",", " wörld"]
    provider.enqueue(ReplySpec(tokens=tokens, delay=0.02))
    stats = StreamStats()
    pieces = await read(target(provider), stats)
    assert all(p.reasoning == "" and p.text for p in pieces)
    assert "".join(p.text for p in pieces) == "".join(tokens)
    assert (stats.completion_tokens, stats.finish_reason) == (3, "stop")


async def test_max_tokens_cuts_the_answer_and_says_so(provider: FakeProvider) -> None:
    provider.enqueue(ReplySpec(reasoning_token_count=5, token_count=50))
    stats = StreamStats()
    pieces = await read(replace(target(provider), max_tokens=3), stats)
    assert "".join(p.text for p in pieces) == "".join(generated_tokens(3))
    assert "".join(p.reasoning for p in pieces) == "".join(generated_reasoning_tokens(5))
    assert (stats.completion_tokens, stats.finish_reason) == (8, "length")


@pytest.mark.parametrize(
    ("error_after", "reasoning_seen", "text_seen"),
    [(3, 3, 0), (7, 5, 2)],
    ids=["while-thinking", "while-answering"],
)
async def test_an_error_event_raises_after_what_came_before_it(
    provider: FakeProvider, error_after: int, reasoning_seen: int, text_seen: int
) -> None:
    provider.enqueue(
        ReplySpec(
            reasoning_token_count=5,
            token_count=5,
            error_after=error_after,
            error_message="overloaded",
        )
    )
    seen: list[Piece] = []

    async def consume() -> None:
        async for piece in stream_pieces(target(provider), HISTORY):
            seen.append(piece)

    with pytest.raises(openai.APIError, match="overloaded") as caught:
        await consume()
    assert classify_provider_error(caught.value) == "provider.server_error"
    assert "".join(p.reasoning for p in seen) == "".join(generated_reasoning_tokens(reasoning_seen))
    assert "".join(p.text for p in seen) == "".join(generated_tokens(text_seen))


async def test_a_connection_dropped_while_thinking_is_a_connection_error(
    provider: FakeProvider,
) -> None:
    provider.enqueue(ReplySpec(reasoning_token_count=50, token_count=10, drop_after=10))
    with pytest.raises(openai.APIConnectionError) as caught:
        await read(target(provider))
    assert classify_provider_error(caught.value) == "provider.unreachable"


async def test_closing_while_thinking_closes_the_providers_stream(provider: FakeProvider) -> None:
    provider.enqueue(ReplySpec(reasoning_token_count=500, token_count=10, delay=0.01))
    answered = asyncio.Event()
    stream = stream_pieces(target(provider), HISTORY, answered=answered)
    first = await anext(stream)
    assert answered.is_set()
    assert first.reasoning
    assert not first.text
    await stream.aclose()
    record = provider.last_request
    for _ in range(100):
        record = provider.last_request
        if record is not None and record.client_disconnected:
            break
        await asyncio.sleep(0.02)
    assert record is not None
    assert record.client_disconnected
    assert record.reasoning_sent < 500
    assert record.tokens_sent == 0


@contextlib.asynccontextmanager
async def serve_once(message: dict[str, Any]) -> AsyncIterator[ModelTarget]:
    """A server that answers ``"stream": true`` with one JSON completion holding ``message``."""

    async def completion(request: web.Request) -> web.Response:
        body = await request.json()
        assert body["stream"] is True
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 4, "completion_tokens": 9, "total_tokens": 13},
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
        yield ModelTarget(
            model_id=1,
            display_name="Plain",
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="sk-test",
            model_name="plain",
        )
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_a_whole_completion_yields_one_piece_with_both(field: str) -> None:
    message = {"role": "assistant", "content": "Whole answer, 完整", field: "Thought it over."}
    stats = StreamStats()
    async with serve_once(message) as plain:
        pieces = await read(plain, stats)
    assert pieces == [Piece(text="Whole answer, 完整", reasoning="Thought it over.")]
    assert (stats.prompt_tokens, stats.completion_tokens, stats.finish_reason) == (4, 9, "stop")


async def test_a_whole_completion_of_reasoning_only() -> None:
    message = {"role": "assistant", "content": None, "reasoning_content": "Ran out of tokens"}
    async with serve_once(message) as plain:
        pieces = await read(plain)
    assert pieces == [Piece(text="", reasoning="Ran out of tokens")]


async def test_top_p_headers_and_the_providers_timeout_reach_the_request(
    provider: FakeProvider,
) -> None:
    configured = replace(
        target(provider),
        top_p=0.5,
        extra_headers=(("X-Team", "chat"),),
        timeout=0.3,
    )
    assert "chat" not in repr(configured)
    await read(configured)
    request = provider.last_request
    assert request is not None
    assert request.body["top_p"] == 0.5
    assert request.headers["x-team"] == "chat"
    # The provider's own timeout wins over the caller's default (60 s); the SDK tries twice.
    provider.enqueue(*[ReplySpec(text="late", headers_delay=2.0)] * 2)
    with pytest.raises(openai.APITimeoutError):
        await read(configured)
