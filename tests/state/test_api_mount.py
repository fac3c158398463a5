"""The whole app: the API is served beside the UI, on the same port, through Reflex."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from tests.fake_provider import FakeProvider
from tests.state.helpers import PASSWORD, make_model, make_provider, make_user
from tests.support.reflex_server import ReflexServer
from tests.support.sse import parse_events


async def test_the_api_is_served_on_the_ui_s_port(
    app_db: Engine, reflex_server: ReflexServer, provider: FakeProvider
) -> None:
    make_user("api@example.com")
    make_model(make_provider(provider), "fake-model")
    async with httpx.AsyncClient(base_url=reflex_server.url, timeout=10) as http:
        assert (await http.get("/ping")).status_code == 200  # Reflex's own route
        assert (await http.get("/api/docs")).status_code == 200
        schema = (await http.get("/api/openapi.json")).json()
        assert "/v1/chat/completions" in schema["paths"]
        signed_in = await http.post(
            "/api/auth/token", json={"email": "api@example.com", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        reply = await http.get("/api/chat/stream", params={"message": "Hi"}, headers=headers)
        events = parse_events(reply.text)
        assert events[-1].data == "[DONE]"
        texts = [e.json()["text"] for e in events[1:-2]]
        assert "".join(texts) == "Echo: Hi"
        missing = await http.get("/api/no-such-route", headers=headers)
        assert (missing.status_code, missing.json()["code"]) == (404, "error.not_found")
        unauthorized = await http.get("/v1/models")
        assert unauthorized.status_code == 401
        assert unauthorized.json()["error"]["code"] == "invalid_api_key"
