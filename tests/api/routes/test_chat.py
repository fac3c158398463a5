"""Chat over Server-Sent Events: event order, new conversations, persistence, failures, and a
client that disconnects."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from llm_chat.db import session_scope
from llm_chat.models import Message, MessageStatus
from tests.api.conftest import Caller, make_conversation, sign_in
from tests.fake_provider import (
    FakeProvider,
    ReplySpec,
    generated_reasoning_tokens,
    generated_tokens,
)
from tests.support.factories import make_model, make_user
from tests.support.reflex_server import ReflexServer
from tests.support.sse import Event, iter_events, parse_events


@pytest.fixture
def model_id(provider: FakeProvider, alice: Caller) -> int:
    """The default model, served by the loopback provider."""
    return make_model(provider.base_url, system_prompt="Be brief.")


def _texts(events: list[Event]) -> str:
    return "".join(e.json()["text"] for e in events if e.name == "message" and e.data != "[DONE]")


def _message(message_id: int) -> Message:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


async def test_a_new_conversation_streams_in_order_and_is_saved(
    client: httpx.AsyncClient, alice: Caller, provider: FakeProvider, model_id: int
) -> None:
    provider.enqueue(ReplySpec(tokens=["First line\n", "second ", "line ✓"], delay=0.05))
    response = await client.get(
        "/api/chat/stream",
        params={"conversation_id": "", "model": "", "message": "Two lines,\nplease"},
        headers=alice.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = parse_events(response.text)
    names = [e.name for e in events]
    assert names[0] == "conversation"
    assert names[-2:] == ["end", "message"]
    assert set(names[1:-2]) == {"message"}
    assert events[-1].data == "[DONE]"
    first = events[0].json()
    assert str(first["conversation_id"]) == response.headers["x-conversation-id"]
    assert first["created"] is True
    assert first["title"] == "Two lines, please"
    assert first["model_id"] == model_id
    assert _texts(events) == "First line\nsecond line ✓"
    end = events[-2].json()
    assert end["status"] == "complete"
    assert end["reply_message_id"] == first["reply_message_id"]
    assert end["context"]["dropped_messages"] == 0
    assert end["context"]["prompt_tokens_estimate"] > 0
    assert (first["model"], first["provider"]) == (
        "fake-model",
        _message(end["reply_message_id"]).provider_name,
    )
    saved = await client.get(
        f"/api/conversations/{first['conversation_id']}", headers=alice.headers
    )
    assert [(m["role"], m["content"], m["status"]) for m in saved.json()["messages"]] == [
        ("user", "Two lines,\nplease", "complete"),
        ("assistant", "First line\nsecond line ✓", "complete"),
    ]


async def test_a_conversation_goes_on_with_its_history_and_a_long_post(
    client: httpx.AsyncClient, alice: Caller, provider: FakeProvider, model_id: int
) -> None:
    cid = make_conversation(alice.user.id, model_id, "Earlier question")
    long_message = "word " * 3_000  # longer than a URL may be
    response = await client.post(
        "/api/chat",
        json={"conversation_id": cid, "model": "fake-model", "message": long_message},
        headers=alice.headers,
    )
    assert response.status_code == 200
    assert response.headers["x-conversation-id"] == str(cid)
    events = parse_events(response.text)
    assert events[0].json()["created"] is False
    assert _texts(events) == "Echo: " + long_message
    sent = provider.last_request
    assert sent is not None
    assert sent.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Earlier question"},
        {"role": "assistant", "content": "Answer to Earlier question"},
        {"role": "user", "content": long_message},
    ]


async def test_a_provider_failure_is_an_error_event_in_the_reader_s_language(
    client: httpx.AsyncClient, alice: Caller, provider: FakeProvider, model_id: int
) -> None:
    provider.enqueue(ReplySpec(status=500), ReplySpec(status=500))  # the client retries once
    response = await client.get(
        "/api/chat/stream",
        params={"message": "Hello?"},
        headers={**alice.headers, "Accept-Language": "zh-CN"},
    )
    assert response.status_code == 200
    events = parse_events(response.text)
    assert [e.name for e in events] == ["conversation", "error", "end", "message"]
    assert events[1].json() == {"code": "provider.server_error", "message": "模型服务商内部出错。"}
    assert events[2].json()["status"] == "error"
    assert events[3].data == "[DONE]"
    reply = _message(events[0].json()["reply_message_id"])
    assert (reply.status, reply.error) == ("error", "provider.server_error")


async def test_bad_input_is_refused_before_anything_is_saved(
    client: httpx.AsyncClient, alice: Caller, model_id: int
) -> None:
    cases = [
        ({"message": ""}, "error.invalid_input"),
        ({"message": "   "}, "chat.message_empty"),
        ({"message": "Hi", "model": "no-such-model"}, "provider.model_unavailable"),
        ({"message": "Hi", "conversation_id": "x"}, "error.invalid_input"),
    ]
    for params, code in cases:
        response = await client.get("/api/chat/stream", params=params, headers=alice.headers)
        assert (response.status_code, response.json()["code"]) == (422, code), params
    too_long = await client.post(
        "/api/chat", json={"message": "x" * 100_001}, headers=alice.headers
    )
    assert too_long.status_code == 422
    listed = await client.get("/api/conversations", headers=alice.headers)
    assert listed.json()["items"] == []


async def test_a_client_that_disconnects_stops_the_provider_and_keeps_the_partial_reply(
    live: ReflexServer, alice: Caller, provider: FakeProvider, model_id: int
) -> None:
    provider.enqueue(ReplySpec(token_count=200, delay=0.02))
    texts: list[str] = []
    first: dict[str, int] = {}
    async with (
        httpx.AsyncClient(base_url=live.url, timeout=10) as http,
        http.stream(
            "GET", "/api/chat/stream", params={"message": "Tell me a long story"},
            headers=alice.headers,
        ) as response,
    ):  # fmt: skip
        assert response.status_code == 200
        async for event in iter_events(response.aiter_lines()):
            if event.name == "conversation":
                first.update(event.json())
            elif event.name == "message":
                texts.append(event.json()["text"])
                if len(texts) == 3:
                    break  # leaving the block closes the connection
    record = provider.wait_for_requests(1, timeout=10)[0]
    assert record.client_disconnected
    assert not record.completed
    assert record.tokens_sent < 200
    reply = await _settled(first["reply_message_id"])
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.content.startswith("".join(texts))
    assert 0 < len(reply.content) < 200 * 5


async def _settled(message_id: int, timeout: float = 10.0) -> Message:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (message := _message(message_id)).status == MessageStatus.STREAMING:
        assert loop.time() < deadline, "the reply was never saved"
        await asyncio.sleep(0.05)
    return message


async def test_a_conversation_keeps_its_model_and_a_reasoning_model_streams_its_thinking(
    client: httpx.AsyncClient, alice: Caller, provider: FakeProvider, model_id: int
) -> None:
    thinker = make_model(provider.base_url, "fake?reasoning=12&tokens=6&delay=0.002")
    response = await client.post(
        "/api/chat",
        json={"model": "fake?reasoning=12&tokens=6&delay=0.002", "message": "Think"},
        headers=alice.headers,
    )
    events = parse_events(response.text)
    first = events[0].json()
    assert (first["model_id"], first["model"]) == (
        thinker,
        "fake?reasoning=12&tokens=6&delay=0.002",
    )
    thinking = "".join(
        e.json().get("reasoning_content", "") for e in events[1:-2] if e.name == "message"
    )
    assert thinking == "".join(generated_reasoning_tokens(12))
    assert _texts_only(events) == "".join(generated_tokens(6))
    # No model named: the conversation goes on with its own, not with the default.
    again = await client.post(
        "/api/chat",
        json={"conversation_id": first["conversation_id"], "message": "Go on"},
        headers=alice.headers,
    )
    assert parse_events(again.text)[0].json()["model_id"] == thinker
    sent = provider.last_request
    assert sent is not None
    assert sent.messages[1] == {"role": "assistant", "content": "".join(generated_tokens(6))}
    # The reply as stored: thinking apart from the answer, with its model and provider.
    detail = await client.get(
        f"/api/conversations/{first['conversation_id']}", headers=alice.headers
    )
    reply = detail.json()["messages"][1]
    assert reply["reasoning_content"] == thinking
    assert reply["content"] == "".join(generated_tokens(6))
    assert reply["model"] == "fake?reasoning=12&tokens=6&delay=0.002"
    assert reply["provider"] == first["provider"]
    assert reply["context_dropped"] == 0


def _texts_only(events: list[Event]) -> str:
    return "".join(
        e.json().get("text", "") for e in events if e.name == "message" and e.data != "[DONE]"
    )


async def test_parallel_chats_never_wait_for_a_database_connection(
    live: ReflexServer,
    alice: Caller,
    provider: FakeProvider,
    model_id: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A request used to hold a pooled connection (its sign-in check) while it waited for a
    # second one to start the turn: from ~31 parallel chats on MariaDB the pool ran dry and
    # requests failed with HTTP 500 after the pool's 30 s timeout.
    parallel = 45
    provider.default = ReplySpec(token_count=20, delay=0.01, first_token_delay=0.2)

    # Many users (one user may have only a few replies streaming at once).
    callers = [sign_in(make_user()) for _ in range(parallel)]

    async def chat(http: httpx.AsyncClient, index: int) -> tuple[int, str]:
        response = await http.post(
            "/api/chat", json={"message": f"Question {index}"}, headers=callers[index].headers
        )
        return response.status_code, response.text

    limits = httpx.Limits(max_connections=parallel)
    async with httpx.AsyncClient(base_url=live.url, timeout=20, limits=limits) as http:
        async with asyncio.timeout(20):
            answers = await asyncio.gather(*(chat(http, i) for i in range(parallel)))
    assert [status for status, _ in answers] == [200] * parallel
    ends = [parse_events(text)[-2].json()["status"] for _, text in answers]
    assert ends == ["complete"] * parallel
    assert not [r.message for r in caplog.records if "database connection" in r.message]
