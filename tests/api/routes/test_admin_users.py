"""``/api/admin/users``: admins only, the same rules as the users tab."""

from __future__ import annotations

import httpx

from llm_chat.models import Role
from tests.api.conftest import Caller, sign_in
from tests.support.factories import make_user


async def test_a_user_is_refused_every_route_and_nothing_changes(
    client: httpx.AsyncClient, alice: Caller, bob: Caller
) -> None:
    target = bob.user.id
    for method, path, body in (
        ("GET", "/api/admin/users", None),
        ("PATCH", f"/api/admin/users/{target}", {"role": "admin"}),
        ("POST", f"/api/admin/users/{target}/reset-password", None),
        ("POST", f"/api/admin/users/{target}/sign-out-everywhere", None),
        ("DELETE", f"/api/admin/users/{target}", None),
    ):
        response = await client.request(method, path, json=body, headers=alice.headers)
        assert (response.status_code, response.json()["code"]) == (403, "admin.only_admins")
    assert (await client.get("/api/auth/me", headers=bob.headers)).json()["role"] == "user"


async def test_an_admin_manages_accounts(client: httpx.AsyncClient, bob: Caller) -> None:
    admin = sign_in(make_user("boss@example.com", role=Role.ADMIN))
    listed = await client.get(
        "/api/admin/users", params={"search": bob.user.email}, headers=admin.headers
    )
    assert listed.status_code == 200
    (row,) = listed.json()["items"]
    assert (row["id"], row["role"], row["is_active"]) == (bob.user.id, "user", True)
    assert "password" not in listed.text

    promoted = await client.patch(
        f"/api/admin/users/{bob.user.id}", json={"role": "admin"}, headers=admin.headers
    )
    assert promoted.json()["role"] == "admin"
    reset = await client.post(
        f"/api/admin/users/{bob.user.id}/reset-password", headers=admin.headers
    )
    password = reset.json()["password"]
    assert len(password) >= 16
    assert (await client.get("/api/auth/me", headers=bob.headers)).status_code == 401
    token = await client.post(
        "/api/auth/token", json={"email": bob.user.email, "password": password}
    )
    assert token.status_code == 200

    disabled = await client.patch(
        f"/api/admin/users/{bob.user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert disabled.json()["is_active"] is False
    yourself = await client.patch(
        f"/api/admin/users/{admin.user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert (yourself.status_code, yourself.json()["code"]) == (422, "admin.not_yourself")
    deleted = await client.delete(f"/api/admin/users/{bob.user.id}", headers=admin.headers)
    assert deleted.status_code == 204
    gone = await client.delete(f"/api/admin/users/{bob.user.id}", headers=admin.headers)
    assert gone.status_code == 404
    audit = await client.get(
        "/api/admin/audit", params={"target_type": "user"}, headers=admin.headers
    )
    assert [e["action"] for e in audit.json()["items"]] == [
        "user.delete",
        "user.disable",
        "user.reset_password",
        "user.role",
    ]
    assert password not in audit.text
