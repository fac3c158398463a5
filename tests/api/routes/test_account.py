"""``/api/auth/me`` and ``/api/auth/password``: the user's own account."""

from __future__ import annotations

import httpx

from llm_chat.db import session_scope
from llm_chat.services import api_keys
from tests.api.conftest import Caller, bearer
from tests.support.factories import PASSWORD


async def test_me_shows_and_renames_the_user(client: httpx.AsyncClient, alice: Caller) -> None:
    shown = await client.get("/api/auth/me", headers=alice.headers)
    assert shown.status_code == 200
    assert shown.json() == {
        "id": alice.user.id,
        "email": alice.user.email,
        "display_name": "Test User",
        "role": "user",
    }
    renamed = await client.patch(
        "/api/auth/me", json={"display_name": "  Ada   Lovelace "}, headers=alice.headers
    )
    assert (renamed.status_code, renamed.json()["display_name"]) == (200, "Ada Lovelace")
    empty = await client.patch("/api/auth/me", json={"display_name": "  "}, headers=alice.headers)
    assert (empty.status_code, empty.json()["code"]) == (422, "auth.name_empty")
    again = await client.get("/api/auth/me", headers=alice.headers)
    assert again.json()["display_name"] == "Ada Lovelace"
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_a_new_password_ends_every_other_token_and_keeps_api_keys(
    client: httpx.AsyncClient, alice: Caller
) -> None:
    with session_scope() as session:
        key = api_keys.create_api_key.within(session, user_id=alice.user.id, name="script").secret
    signed_in = await client.post(
        "/api/auth/token", json={"email": alice.user.email, "password": PASSWORD}
    )
    other_device = bearer(signed_in.json()["access_token"])

    wrong = await client.post(
        "/api/auth/password",
        json={"current_password": "not it", "new_password": "Fresh-harbor-42"},
        headers=alice.headers,
    )
    assert (wrong.status_code, wrong.json()["code"]) == (422, "auth.wrong_password")
    weak = await client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "password"},
        headers=alice.headers,
    )
    assert (weak.status_code, weak.json()["code"]) == (422, "auth.password_too_weak")
    assert (await client.get("/api/auth/me", headers=other_device)).status_code == 200

    changed = await client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "Fresh-harbor-42"},
        headers=alice.headers,
    )
    assert changed.status_code == 200
    fresh = bearer(changed.json()["access_token"])
    assert (await client.get("/api/auth/me", headers=fresh)).status_code == 200
    for stale in (alice.headers, other_device):
        refused = await client.get("/api/auth/me", headers=stale)
        assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")
    assert (await client.get("/api/auth/me", headers=bearer(key))).status_code == 200
    old = await client.post(
        "/api/auth/token", json={"email": alice.user.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/auth/token", json={"email": alice.user.email, "password": "Fresh-harbor-42"}
    )
    assert new.status_code == 200
