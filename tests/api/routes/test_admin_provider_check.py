"""``POST /api/admin/providers/test``: a provider's values tested before they are saved, for
admins only; nothing is saved or audited, and a stored key never goes to a new host."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from llm_chat.models import Role
from llm_chat.services import audit
from llm_chat.services.access import SYSTEM
from tests.api.conftest import Caller, sign_in
from tests.fake_provider import DEFAULT_MODELS, FakeProvider
from tests.support.factories import make_user

KEY = "sk-api-unsaved-SECRET-6060"
URL = "/api/admin/providers/test"


@pytest.fixture
def admin(alice: Caller) -> Caller:
    """A signed-in admin (besides alice, a user)."""
    return sign_in(make_user(role=Role.ADMIN))


@pytest.fixture
def keyed_provider() -> Iterator[FakeProvider]:
    """A provider that checks the API key."""
    with FakeProvider(api_key=KEY) as fake:
        yield fake


async def test_an_admin_tests_new_values_and_nothing_is_saved(
    client: httpx.AsyncClient,
    admin: Caller,
    keyed_provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"kind": "custom", "base_url": keyed_provider.base_url, "api_key": KEY}
    response = await client.post(URL, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    check = response.json()
    assert check["ok"] is True
    assert check["models"] == sorted(DEFAULT_MODELS)
    assert check["completion_model"] == sorted(DEFAULT_MODELS)[0]
    assert check["list_models"]["message"] == "OK"
    wrong = await client.post(
        URL,
        json={**body, "api_key": "sk-typo"},
        headers={**admin.headers, "Accept-Language": "zh-CN"},
    )
    assert wrong.json()["list_models"]["status"] == "provider.auth"
    assert "API" in wrong.json()["list_models"]["message"]  # in Chinese, naming the key
    assert (await client.get("/api/admin/providers", headers=admin.headers)).json() == []
    assert (await audit.list_entries(actor=SYSTEM)).total == 0
    for text in (response.text, wrong.text, caplog.text):
        assert KEY not in text


async def test_an_edited_provider_keeps_its_key_at_home(
    client: httpx.AsyncClient, admin: Caller, keyed_provider: FakeProvider
) -> None:
    created = await client.post(
        "/api/admin/providers",
        json={"name": "Saved", "base_url": keyed_provider.base_url, "api_key": KEY},
        headers=admin.headers,
    )
    pid = created.json()["id"]
    with FakeProvider() as elsewhere:
        moved = await client.post(
            URL, json={"provider_id": pid, "base_url": elsewhere.base_url}, headers=admin.headers
        )
        assert moved.status_code == 422
        assert moved.json()["code"] == "admin.secrets_for_new_url"
        assert elsewhere.requests == []
        typed = await client.post(
            URL,
            json={"provider_id": pid, "base_url": elsewhere.base_url, "api_key": "sk-other"},
            headers=admin.headers,
        )
        assert typed.json()["ok"] is True
        assert [r.headers["authorization"] for r in elsewhere.requests] == ["Bearer sk-other"] * 2
    home = await client.post(
        URL, json={"provider_id": pid, "base_url": keyed_provider.base_url}, headers=admin.headers
    )
    assert home.json()["ok"] is True  # the stored key, at its own URL
    missing = await client.post(
        URL,
        json={"provider_id": 999999, "base_url": keyed_provider.base_url},
        headers=admin.headers,
    )
    assert missing.status_code == 404
    bad = await client.post(URL, json={"base_url": "not a url"}, headers=admin.headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "admin.invalid_base_url")
    actions = [e.action for e in (await audit.list_entries(actor=SYSTEM)).entries]
    assert actions == ["provider.create"]


async def test_a_user_is_refused_and_no_request_is_made(
    client: httpx.AsyncClient, alice: Caller, keyed_provider: FakeProvider
) -> None:
    for body in (
        {"base_url": keyed_provider.base_url, "api_key": KEY},
        {"provider_id": 1, "base_url": keyed_provider.base_url},
    ):
        response = await client.post(URL, json=body, headers=alice.headers)
        assert response.status_code == 403
        assert response.json()["code"] == "admin.only_admins"
    unsigned = await client.post(URL, json={"base_url": keyed_provider.base_url})
    assert unsigned.status_code == 401
    assert keyed_provider.requests == []


async def test_the_route_is_in_the_api_docs(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    operation = schema["paths"][URL]["post"]
    assert operation["tags"] == ["admin"]
    assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])
    assert "ProviderCheckIn" in schema["components"]["schemas"]
