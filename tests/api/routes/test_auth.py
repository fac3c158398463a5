"""``POST /api/auth/token``."""

from __future__ import annotations

import httpx

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
