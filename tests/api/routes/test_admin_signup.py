"""``/api/admin/signup`` and ``/api/admin/invites``: admins only; the policy applies to the
registration page, and an invitation's link makes its account once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from llm_chat.models import Role
from llm_chat.services import signup
from tests.api.conftest import Caller, sign_in
from tests.support.factories import PASSWORD, make_user


async def test_a_user_is_refused_every_route_and_nothing_changes(
    client: httpx.AsyncClient, alice: Caller
) -> None:
    for method, path, body in (
        ("GET", "/api/admin/signup", None),
        ("PUT", "/api/admin/signup", {"mode": "open", "invite_days": 3}),
        ("GET", "/api/admin/invites", None),
        ("POST", "/api/admin/invites", {"email": "x@example.com", "role": "admin"}),
        ("DELETE", "/api/admin/invites/1", None),
    ):
        response = await client.request(method, path, json=body, headers=alice.headers)
        assert (response.status_code, response.json()["code"]) == (403, "admin.only_admins")
    assert (await signup.signup_policy()).invite_days == 7


async def test_an_admin_closes_sign_up_and_invites(client: httpx.AsyncClient, bob: Caller) -> None:
    admin = sign_in(make_user("boss@example.com", role=Role.ADMIN))
    assert (await client.get("/api/admin/signup", headers=admin.headers)).json() == {
        "mode": "open",
        "invite_days": 7,
    }
    closed = await client.put(
        "/api/admin/signup", json={"mode": "closed", "invite_days": 3}, headers=admin.headers
    )
    assert closed.json() == {"mode": "closed", "invite_days": 3}
    bad = await client.put(
        "/api/admin/signup", json={"mode": "shut", "invite_days": 3}, headers=admin.headers
    )
    assert bad.status_code == 422

    made = await client.post(
        "/api/admin/invites", json={"email": "New@Example.com"}, headers=admin.headers
    )
    assert made.status_code == 201
    body = made.json()
    assert (body["invite"]["email"], body["invite"]["role"], body["invite"]["usable"]) == (
        "new@example.com",
        "user",
        True,
    )
    link = urlparse(body["link"])
    assert link.path == "/register"
    (token,) = parse_qs(link.query)["invite"]
    listed = await client.get("/api/admin/invites", headers=admin.headers)
    assert [i["email"] for i in listed.json()] == ["new@example.com"]
    assert token not in listed.text

    taken = await client.post(
        "/api/admin/invites", json={"email": bob.user.email}, headers=admin.headers
    )
    assert (taken.status_code, taken.json()["code"]) == (422, "auth.email_taken")

    account = await signup.sign_up(email="", password=PASSWORD, invite=token)
    assert account.user.email == "new@example.com"
    assert (await client.get("/api/admin/invites", headers=admin.headers)).json() == []
    signed_in = await client.post(
        "/api/auth/token", json={"email": "new@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200

    other = await client.post(
        "/api/admin/invites", json={"email": "later@example.com"}, headers=admin.headers
    )
    invite_id = other.json()["invite"]["id"]
    gone = await client.delete(f"/api/admin/invites/{invite_id}", headers=admin.headers)
    assert gone.status_code == 204
    again = await client.delete(f"/api/admin/invites/{invite_id}", headers=admin.headers)
    assert (again.status_code, again.json()["code"]) == (404, "admin.invite_not_found")
    audit = await client.get(
        "/api/admin/audit", params={"target_type": "invite"}, headers=admin.headers
    )
    assert [e["action"] for e in audit.json()["items"]] == [
        "invite.revoke",
        "invite.create",
        "invite.create",
    ]


async def test_waiting_accounts_are_listed_and_approved(client: httpx.AsyncClient) -> None:
    admin = sign_in(make_user("boss@example.com", role=Role.ADMIN))
    await client.put(
        "/api/admin/signup", json={"mode": "approval", "invite_days": 7}, headers=admin.headers
    )
    waiting = await signup.sign_up(email="wait@example.com", password=PASSWORD)
    refused = await client.post(
        "/api/auth/token", json={"email": "wait@example.com", "password": PASSWORD}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.pending_approval")
    listed = await client.get("/api/admin/users", params={"pending": True}, headers=admin.headers)
    (row,) = listed.json()["items"]
    assert (row["email"], row["is_active"], row["pending_approval"]) == (
        "wait@example.com",
        False,
        True,
    )
    approved = await client.patch(
        f"/api/admin/users/{waiting.user.id}", json={"is_active": True}, headers=admin.headers
    )
    assert (approved.json()["is_active"], approved.json()["pending_approval"]) == (True, False)
    token = await client.post(
        "/api/auth/token", json={"email": "wait@example.com", "password": PASSWORD}
    )
    assert token.status_code == 200
