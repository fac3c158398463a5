"""``/api/admin/limits``, ``/api/admin/usage`` and ``/api/usage``; a send over a limit is 429
with ``Retry-After`` and asks the provider nothing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from llm_chat.models import Role
from llm_chat.models.base import utcnow
from llm_chat.services import audit
from llm_chat.services.access import SYSTEM
from tests.api.conftest import Caller, sign_in
from tests.fake_provider import FakeProvider
from tests.support.factories import add_usage, make_model, make_user, set_user_limits


@pytest.fixture
def admin(alice: Caller) -> Caller:
    """A signed-in admin (besides alice, a user)."""
    return sign_in(make_user(role=Role.ADMIN))


async def test_a_user_is_refused_every_admin_route_and_nothing_changes(
    client: httpx.AsyncClient, alice: Caller, admin: Caller
) -> None:
    uid = alice.user.id
    calls = [
        ("GET", "/api/admin/limits", None),
        ("PUT", "/api/admin/limits/roles/user", {"messages_per_minute": 1}),
        ("GET", f"/api/admin/limits/users/{uid}", None),
        ("PUT", f"/api/admin/limits/users/{uid}", {"concurrent_streams": 1000}),
        ("GET", "/api/admin/usage", None),
        ("GET", "/api/admin/usage?format=csv", None),
    ]
    for method, url, body in calls:
        response = await client.request(method, url, json=body, headers=alice.headers)
        assert response.status_code == 403, url
        assert response.json()["code"] == "admin.only_admins"
    limits = (await client.get(f"/api/admin/limits/users/{uid}", headers=admin.headers)).json()
    assert limits["own"] == {
        "messages_per_minute": None,
        "tokens_per_day": None,
        "concurrent_streams": None,
    }
    roles = (await client.get("/api/admin/limits", headers=admin.headers)).json()
    assert roles["roles"]["user"] == {
        "messages_per_minute": 0,
        "tokens_per_day": 0,
        "concurrent_streams": None,
    }
    assert (await audit.list_entries(actor=SYSTEM)).total == 0


async def test_an_admin_sets_role_and_user_limits(
    client: httpx.AsyncClient, alice: Caller, admin: Caller
) -> None:
    put = await client.put(
        "/api/admin/limits/roles/user",
        json={"messages_per_minute": 30, "tokens_per_day": 100000, "concurrent_streams": 2},
        headers=admin.headers,
    )
    assert put.status_code == 200, put.text
    got = (await client.get("/api/admin/limits", headers=admin.headers)).json()
    assert got["roles"]["user"]["concurrent_streams"] == 2
    assert got["fallback_concurrent_streams"] == 4
    uid = alice.user.id
    own = await client.put(
        f"/api/admin/limits/users/{uid}", json={"tokens_per_day": 0}, headers=admin.headers
    )
    assert own.status_code == 200, own.text
    assert own.json()["effective"] == {
        "messages_per_minute": 30,
        "tokens_per_day": 0,
        "concurrent_streams": 2,
    }
    bad = await client.put(
        f"/api/admin/limits/users/{uid}", json={"tokens_per_day": -5}, headers=admin.headers
    )
    assert bad.status_code == 422
    missing = await client.get("/api/admin/limits/users/999999", headers=admin.headers)
    assert missing.status_code == 404
    actions = [e.action for e in (await audit.list_entries(actor=SYSTEM)).entries]
    assert actions == ["user.limits", "setting.update"]


async def test_usage_as_json_and_csv_and_one_s_own(
    client: httpx.AsyncClient, alice: Caller, admin: Caller
) -> None:
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    add_usage(alice.user.id, at=today - timedelta(days=1), model_name="gpt", prompt_tokens=40,
              completion_tokens=2, cost_nanos=5_000_000)  # fmt: skip
    add_usage(admin.user.id, at=today, model_name="qwen", prompt_tokens=7, completion_tokens=3)
    report = (await client.get("/api/admin/usage", headers=admin.headers)).json()
    assert len(report["by_day"]) == 30
    assert report["total"]["total_tokens"] == 52
    assert [u["key"] for u in report["by_user"]] == [alice.user.email, admin.user.email]
    assert report["by_model"][0]["cost"] == "0.005"
    since = (today - timedelta(days=1)).date().isoformat()
    response = await client.get(
        f"/api/admin/usage?format=csv&group=user&since={since}", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="usage-user-{since}-' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][0] == "user"
    assert rows[1][:5] == [alice.user.email, "1", "40", "2", "42"]
    assert rows[-1][0] == "total"
    own = (await client.get("/api/usage", headers=alice.headers)).json()
    assert (own["total"]["total_tokens"], own["by_user"]) == (42, [])
    backwards = await client.get(
        f"/api/usage?since={today.date()}&until={since}", headers=alice.headers
    )
    assert backwards.status_code == 422
    assert backwards.json()["code"] == "usage.invalid_range"


async def test_a_send_over_a_limit_is_429_with_retry_after_and_asks_nothing(
    client: httpx.AsyncClient, alice: Caller, provider: FakeProvider
) -> None:
    make_model(provider.base_url)
    set_user_limits(alice.user.id, tokens_per_day=100)
    add_usage(alice.user.id, at=utcnow(), prompt_tokens=100)
    chat = await client.post("/api/chat", json={"message": "Hi"}, headers=alice.headers)
    assert chat.status_code == 429
    assert chat.json()["code"] == "limits.tokens_per_day"
    wait = int(chat.headers["retry-after"])
    assert 0 < wait <= 24 * 3600
    assert f"{(wait + 59) // 60} min" in chat.json()["detail"]
    v1 = await client.post(
        "/v1/chat/completions",
        json={"model": "fake-model", "messages": [{"role": "user", "content": "Hi"}]},
        headers=alice.headers,
    )
    assert v1.status_code == 429
    assert v1.json()["error"]["type"] == "rate_limit_error"
    assert v1.json()["error"]["code"] == "limits.tokens_per_day"
    assert v1.headers["retry-after"] == chat.headers["retry-after"]
    assert provider.chat_requests == []
