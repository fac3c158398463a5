"""``/api/admin/...``: the admin page's operations for admins, 403 for everyone else."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from llm_chat.models import Role
from tests.api.conftest import Caller, sign_in
from tests.fake_provider import DEFAULT_MODELS, FakeProvider
from tests.support.factories import make_model, make_user

KEY = "sk-api-SECRET-8080"
HEADER_SECRET = "hdr-SECRET-9090"


@pytest.fixture
def admin(alice: Caller) -> Caller:
    """A signed-in admin."""
    return sign_in(make_user(role=Role.ADMIN))


@pytest.fixture
def keyed_provider() -> Iterator[FakeProvider]:
    """A provider that checks the API key."""
    with FakeProvider(api_key=KEY) as fake:
        yield fake


async def _add_provider(client: httpx.AsyncClient, admin: Caller, base_url: str) -> dict:
    response = await client.post(
        "/api/admin/providers",
        json={
            "name": "Loopback",
            "kind": "custom",
            "base_url": base_url,
            "api_key": KEY,
            "extra_headers": {"X-Gateway": HEADER_SECRET},
            "timeout_seconds": 20,
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_admin_adds_tests_imports_edits_and_deletes(
    client: httpx.AsyncClient,
    admin: Caller,
    keyed_provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    async def call(method: str, url: str, **kwargs: object) -> httpx.Response:
        response = await client.request(method, url, headers=admin.headers, **kwargs)  # type: ignore[arg-type]
        seen.append(response.text)
        return response

    provider = await _add_provider(client, admin, keyed_provider.base_url)
    assert provider["has_api_key"] is True
    assert provider["header_names"] == ["X-Gateway"]
    assert provider["kind_label"] == "Custom"
    pid = provider["id"]

    check = (await call("POST", f"/api/admin/providers/{pid}/test")).json()
    assert check["ok"] is True
    assert check["models"] == sorted(DEFAULT_MODELS)
    assert check["list_models"]["message"] == "OK"
    assert check["completion_model"] == sorted(DEFAULT_MODELS)[0]
    assert keyed_provider.requests[-1].headers["x-gateway"] == HEADER_SECRET

    imported = await call(
        "POST", f"/api/admin/providers/{pid}/import", json={"model_names": ["fake-model"]}
    )
    assert imported.status_code == 201
    [model] = imported.json()
    assert (model["display_name"], model["is_default"]) == ("fake-model", True)

    changed = await call(
        "PATCH",
        f"/api/admin/models/{model['id']}",
        json={"display_name": "Fake", "price_input": "0.15", "allowed_roles": ["admin"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["price_input"] == "0.15"
    assert changed.json()["allowed_roles"] == ["admin"]
    assert changed.json()["model_name"] == "fake-model"

    moved = await call(
        "PATCH", f"/api/admin/providers/{pid}", json={"base_url": "http://elsewhere.test/v1"}
    )
    assert moved.status_code == 422
    assert moved.json()["code"] == "admin.secrets_for_new_url"
    cleared = await call("PATCH", f"/api/admin/providers/{pid}", json={"timeout_seconds": None})
    assert cleared.json()["timeout_seconds"] is None

    refused = await call("DELETE", f"/api/admin/providers/{pid}")
    assert refused.status_code == 422
    assert refused.json()["code"] == "admin.provider_has_models"
    assert (await call("DELETE", f"/api/admin/models/{model['id']}")).status_code == 204
    assert (await call("DELETE", f"/api/admin/providers/{pid}")).status_code == 204
    assert (await call("GET", "/api/admin/providers")).json() == []

    log = (await call("GET", "/api/admin/audit", params={"target_type": "provider"})).json()
    assert [e["action"] for e in log["items"]] == [
        "provider.delete",
        "provider.update",
        "provider.create",
    ]
    assert log["items"][0]["actor_email"] == admin.user.email
    assert log["items"][0]["at"].endswith("Z")
    for secret in (KEY, HEADER_SECRET):
        assert not [text for text in seen if secret in text]
        assert secret not in caplog.text


async def test_everyone_but_admins_gets_403_and_nothing_changes(
    client: httpx.AsyncClient, alice: Caller, provider: FakeProvider
) -> None:
    model_id = make_model(provider.base_url)
    routes = [
        ("GET", "/api/admin/providers", None),
        ("POST", "/api/admin/providers", {"name": "X", "base_url": "http://x.test/v1"}),
        ("PATCH", "/api/admin/providers/1", {"name": "Mine"}),
        ("DELETE", "/api/admin/providers/1?with_models=true", None),
        ("POST", "/api/admin/providers/1/test", None),
        ("POST", "/api/admin/providers/1/import", {"model_names": ["x"]}),
        ("GET", "/api/admin/models", None),
        ("POST", "/api/admin/models", {"provider_id": 1, "display_name": "X", "model_name": "x"}),
        ("PATCH", f"/api/admin/models/{model_id}", {"enabled": False}),
        ("DELETE", f"/api/admin/models/{model_id}", None),
        ("POST", f"/api/admin/models/{model_id}/default", None),
        ("GET", "/api/admin/audit", None),
    ]
    for method, url, body in routes:
        response = await client.request(method, url, json=body, headers=alice.headers)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["code"] == "admin.only_admins"
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401
    assert provider.requests == []
    models = (await client.get("/api/models", headers=alice.headers)).json()
    assert [(m["id"], m["name"]) for m in models] == [(model_id, "fake-model")]


async def test_the_model_list_follows_the_callers_role(
    client: httpx.AsyncClient, alice: Caller, admin: Caller, provider: FakeProvider
) -> None:
    make_model(provider.base_url, "open-model")
    make_model(provider.base_url, "staff-model", allowed_roles=["admin"])
    for caller, names in ((alice, ["open-model"]), (admin, ["open-model", "staff-model"])):
        listed = (await client.get("/api/models", headers=caller.headers)).json()
        assert [m["model_name"] for m in listed] == names
        gateway = (await client.get("/v1/models", headers=caller.headers)).json()
        assert [m["id"] for m in gateway["data"]] == names


async def test_admin_input_is_checked(client: httpx.AsyncClient, admin: Caller) -> None:
    bad = [
        ("/api/admin/providers", {"name": "P", "kind": "custom", "base_url": "ftp://x"}),
        ("/api/admin/providers", {"name": "P", "extra_headers": {"Host": "evil"}}),
        ("/api/admin/providers", {"name": "P", "timeout_seconds": 0}),
        ("/api/admin/models", {"provider_id": 999, "display_name": "M", "model_name": "m"}),
    ]
    statuses = [
        (await client.post(url, json=body, headers=admin.headers)).status_code for url, body in bad
    ]
    assert statuses == [422, 422, 422, 404]
    openai = await client.post(
        "/api/admin/providers", json={"name": "OpenAI", "kind": "openai"}, headers=admin.headers
    )
    assert openai.json()["base_url"] == "https://api.openai.com/v1"
    assert openai.json()["base_url_from_kind"] is True
    audit = await client.get(
        "/api/admin/audit",
        params={"since": "2000-01-01T00:00:00+08:00", "actor": admin.user.email},
        headers=admin.headers,
    )
    assert [e["target_name"] for e in audit.json()["items"]] == ["OpenAI"]
