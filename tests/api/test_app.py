"""The API app: its docs, its namespace, answers to unknown routes and oversized bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from llm_chat.api.app import serve_beside
from llm_chat.api.limits import MAX_BODY_BYTES

RESERVED = ("/_event", "/ping", "/_health", "/_upload", "/_all_routes")


@pytest.fixture
async def bare_client(api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client for requests that never reach the database."""
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_docs_and_schema_are_served_under_api(bare_client: httpx.AsyncClient) -> None:
    docs = await bare_client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert "/api/openapi.json" in docs.text
    schema = (await bare_client.get("/api/openapi.json")).json()
    assert set(schema["paths"]) == {
        "/api/auth/token",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/auth/password",
        "/api/models",
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/conversations/{conversation_id}/export",
        "/api/chat/stream",
        "/api/chat",
        "/api/chat/{conversation_id}/stop",
        "/v1/models",
        "/v1/chat/completions",
        "/api/admin/providers",
        "/api/admin/providers/{provider_id}",
        "/api/admin/providers/test",
        "/api/admin/providers/{provider_id}/test",
        "/api/admin/providers/{provider_id}/import",
        "/api/admin/models",
        "/api/admin/models/{model_id}",
        "/api/admin/models/{model_id}/default",
        "/api/admin/audit",
        "/api/admin/users",
        "/api/admin/users/{user_id}",
        "/api/admin/users/{user_id}/reset-password",
        "/api/admin/users/{user_id}/sign-out-everywhere",
        "/api/admin/signup",
        "/api/admin/invites",
        "/api/admin/invites/{invite_id}",
        "/api/admin/limits",
        "/api/admin/limits/roles/{role}",
        "/api/admin/limits/users/{user_id}",
        "/api/admin/prices",
        "/api/admin/usage",
        "/api/usage",
    }
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_every_route_is_under_api_or_v1(api: FastAPI) -> None:
    top_level = [p for route in api.routes if (p := getattr(route, "path", ""))]
    paths = [*top_level, *api.openapi()["paths"]]
    assert len(paths) > 10
    assert all(p.startswith(("/api/", "/v1/")) for p in paths), paths
    assert not any(p.startswith(RESERVED) for p in paths)


async def test_unknown_routes_and_methods_answer_in_the_api_s_shape(
    bare_client: httpx.AsyncClient,
) -> None:
    missing = await bare_client.get("/api/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "error.not_found")
    wrong_method = await bare_client.put("/api/conversations/1")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "DELETE, GET, PATCH"
    assert wrong_method.json()["code"] == "api.method_not_allowed"
    openai_style = await bare_client.get("/v1/chat/completions")
    assert openai_style.status_code == 405
    assert openai_style.json()["error"]["code"] == "api.method_not_allowed"


async def test_bodies_over_the_limit_get_413_before_anything_else(
    bare_client: httpx.AsyncClient,
) -> None:
    too_big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    declared = await bare_client.post(
        "/api/chat", content=too_big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json() == {
        "detail": "The request body is too large.",
        "code": "api.body_too_large",
    }

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: found out while reading
        yield b'{"model": "x", "messages": ['
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b" " * 65536
        yield b"]}"

    streamed = await bare_client.post("/v1/chat/completions", content=chunks())
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "api.body_too_large"


async def test_the_ui_gets_its_websockets_directly_and_its_pages_through_the_api() -> None:
    seen: list[tuple[str, str, object]] = []

    async def ui(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope["type"], scope["path"], send))
        if scope["type"] == "http":
            await PlainTextResponse("the UI")(scope, receive, send)

    app = serve_beside(ui)

    async def ws_receive() -> Message:
        return {"type": "websocket.connect"}

    async def ws_send(message: Message) -> None:
        pass

    await app({"type": "websocket", "path": "/_event/", "headers": []}, ws_receive, ws_send)
    # The same send: no middleware of the API wraps the UI's long-lived connection.
    assert seen == [("websocket", "/_event/", ws_send)]

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/c/12")
        assert (page.status_code, page.text) == (200, "the UI")
        assert seen[-1][:2] == ("http", "/c/12")
        docs = await http.get("/api/docs")
        assert docs.status_code == 200
        assert (await http.get("/api/no-such-route")).json()["code"] == "error.not_found"
    assert len(seen) == 2  # the API's own paths never reached the UI
