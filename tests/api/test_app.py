"""The API app: its docs, its namespace, answers to unknown routes and oversized bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

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
        "/api/models",
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/conversations/{conversation_id}/export",
        "/api/chat/stream",
        "/api/chat",
        "/v1/models",
        "/v1/chat/completions",
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
