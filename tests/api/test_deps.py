"""Bearer auth on every route: sign-in tokens and API keys; 401 for bad ones, 403 if disabled."""

from __future__ import annotations

import itertools

import httpx
import pytest
from fastapi import Request

from llm_chat.api.deps import client_address
from llm_chat.config import get_settings
from llm_chat.db import session_scope
from llm_chat.models import User
from llm_chat.security import create_token
from llm_chat.services import api_keys
from tests.api.conftest import Caller, bearer
from tests.support.factories import disable_user


def _new_key(user_id: int) -> str:
    with session_scope() as session:
        return api_keys.create_api_key.within(session, user_id=user_id, name="test").secret


async def test_missing_malformed_forged_and_expired_tokens_get_401(
    client: httpx.AsyncClient, alice: Caller
) -> None:
    settings = get_settings()
    expired = create_token(alice.user.id, settings.jwt_secret, 60, now=1_000_000)
    forged = create_token(alice.user.id, "x" * 48, 3600)
    credentials = (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        bearer(expired),
        bearer(forged),
        bearer("llmc_" + "A" * 43),
    )
    for path, headers in itertools.product(("/api/models", "/v1/models"), credentials):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        code = body["code"] if path.startswith("/api") else body["error"]["code"]
        assert code in {"auth.invalid_token", "auth.invalid_api_key", "invalid_api_key"}


async def test_api_keys_work_until_revoked(client: httpx.AsyncClient, alice: Caller) -> None:
    secret = _new_key(alice.user.id)
    assert (await client.get("/api/models", headers=bearer(secret))).status_code == 200
    assert (await client.get("/v1/models", headers=bearer(secret))).status_code == 200
    with session_scope() as session:
        (key,) = api_keys.list_api_keys.within(session, user_id=alice.user.id)
        assert key.last_used_at is not None
        api_keys.revoke_api_key.within(session, user_id=alice.user.id, key_id=key.id)
    revoked = await client.get("/api/models", headers=bearer(secret))
    assert (revoked.status_code, revoked.json()["code"]) == (401, "auth.invalid_api_key")


async def test_disabled_accounts_get_403_with_any_credential(
    client: httpx.AsyncClient, alice: Caller
) -> None:
    secret = _new_key(alice.user.id)
    disable_user(alice.user.id)
    for headers in (alice.headers, bearer(secret)):
        response = await client.get("/api/conversations", headers=headers)
        assert (response.status_code, response.json()["code"]) == (403, "auth.disabled")
        openai_style = await client.get("/v1/models", headers=headers)
        assert openai_style.status_code == 403
        assert openai_style.json()["error"]["type"] == "permission_error"


async def test_a_deleted_user_s_token_gets_401(client: httpx.AsyncClient, alice: Caller) -> None:
    with session_scope() as session:
        row = session.get(User, alice.user.id)
        session.delete(row)
    response = await client.get("/api/models", headers=alice.headers)
    assert response.status_code == 401


async def test_errors_speak_the_caller_s_language(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/models", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 401
    assert "令牌" in response.json()["detail"]


def _request(peer: str, forwarded_for: str | None = None) -> Request:
    headers = [] if forwarded_for is None else [(b"x-forwarded-for", forwarded_for.encode())]
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


def test_the_client_address_trusts_only_configured_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without proxies configured the header is the client's to forge: ignored.
    assert client_address(_request("192.0.2.1", "203.0.113.5")) == "192.0.2.1"
    monkeypatch.setenv("LLM_CHAT_TRUSTED_PROXY_HOPS", "1")
    get_settings.cache_clear()
    try:
        # One proxy: the address it saw is the last one it appended; earlier ones are the
        # client's to forge.
        assert client_address(_request("10.0.0.2", "6.6.6.6, 203.0.113.5")) == "203.0.113.5"
        assert client_address(_request("10.0.0.2")) == "10.0.0.2"
    finally:
        monkeypatch.delenv("LLM_CHAT_TRUSTED_PROXY_HOPS")
        get_settings.cache_clear()
