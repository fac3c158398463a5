"""``POST /api/auth/token``."""

from __future__ import annotations

import httpx

from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.services import api_keys, sessions, users
from tests.api.conftest import bearer
from tests.support.factories import PASSWORD, disable_user, make_user


async def test_a_token_for_the_right_password(client: httpx.AsyncClient) -> None:
    user = make_user("Tea@Example.com")
    response = await client.post(
        "/api/auth/token", json={"email": " tea@example.com ", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    models = await client.get("/api/models", headers=bearer(body["access_token"]))
    assert models.status_code == 200
    assert user.id


async def test_wrong_password_unknown_email_and_disabled_account(
    client: httpx.AsyncClient,
) -> None:
    user = make_user("kim@example.com")
    for email, password in (("kim@example.com", "wrong password"), ("no@example.com", PASSWORD)):
        response = await client.post("/api/auth/token", json={"email": email, "password": password})
        assert response.status_code == 401
        assert response.json() == {
            "detail": "Wrong email or password.",
            "code": "auth.bad_credentials",
        }
        assert "access_token" not in response.text
    disable_user(user.id)
    disabled = await client.post(
        "/api/auth/token", json={"email": "kim@example.com", "password": PASSWORD}
    )
    assert (disabled.status_code, disabled.json()["code"]) == (403, "auth.disabled")


async def test_bad_input_gets_a_readable_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/token", json={"email": "kim@example.com"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "error.invalid_input"
    assert body["detail"] == "body.password: Field required"
    assert body["errors"] == [{"loc": ["body", "password"], "msg": "Field required"}]
    not_json = await client.post(
        "/api/auth/token", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert "JSON" in not_json.json()["detail"]


async def _token(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def test_logout_revokes_the_token_at_once(client: httpx.AsyncClient) -> None:
    make_user("lou@example.com")
    token = await _token(client, "lou@example.com")
    other_session = await _token(client, "lou@example.com")
    assert (await client.get("/api/models", headers=bearer(token))).status_code == 200

    logout = await client.post("/api/auth/logout", headers=bearer(token))
    assert (logout.status_code, logout.content) == (204, b"")
    for revoked in (token, other_session):  # every session of the account ends
        response = await client.get("/api/conversations", headers=bearer(revoked))
        assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_token")
    again = await client.post("/api/auth/logout", headers=bearer(token))
    assert again.status_code == 401

    fresh = await _token(client, "lou@example.com")
    assert (await client.get("/api/models", headers=bearer(fresh))).status_code == 200


async def test_logout_needs_a_sign_in_token(client: httpx.AsyncClient) -> None:
    user = make_user("max@example.com")
    with session_scope() as session:
        key = api_keys.create_api_key.within(session, user_id=user.id, name="script").secret
    assert (await client.post("/api/auth/logout")).status_code == 401
    refused = await client.post("/api/auth/logout", headers=bearer(key))
    assert (refused.status_code, refused.json()["code"]) == (422, "auth.logout_needs_token")
    assert (await client.get("/api/models", headers=bearer(key))).status_code == 200


async def test_a_new_password_or_an_admin_ends_api_sessions(client: httpx.AsyncClient) -> None:
    admin = make_user("nia@example.com", role=Role.ADMIN)
    user = make_user("oz@example.com")
    before_admin = await _token(client, "oz@example.com")
    with session_scope() as session:
        sessions.sign_out_everywhere.within(session, actor=admin, user_id=user.id)
    assert (await client.get("/api/models", headers=bearer(before_admin))).status_code == 401

    before_change = await _token(client, "oz@example.com")
    with session_scope() as session:
        users.change_password.within(
            session, user_id=user.id, current=PASSWORD, new="A-brand-new-secret-9"
        )
    assert (await client.get("/api/models", headers=bearer(before_change))).status_code == 401
    after = await _token(client, "oz@example.com", "A-brand-new-secret-9")
    assert (await client.get("/api/models", headers=bearer(after))).status_code == 200


async def test_repeated_failures_get_429_whatever_the_password(client: httpx.AsyncClient) -> None:
    make_user("pat@example.com")
    for _ in range(5):
        wrong = {"email": "pat@example.com", "password": "wrong password"}
        assert (await client.post("/api/auth/token", json=wrong)).status_code == 401
    locked = []
    for password in (PASSWORD, "wrong password"):
        response = await client.post(
            "/api/auth/token", json={"email": "pat@example.com", "password": password}
        )
        locked.append((response.status_code, response.headers["retry-after"], response.json()))
    assert locked[0] == locked[1]  # the right password is not told apart
    status, retry_after, body = locked[0]
    assert (status, retry_after) == (429, "60")
    assert body == {
        "code": "auth.too_many_attempts",
        "detail": "Too many failed sign-ins. Try again in 1 min.",
    }
