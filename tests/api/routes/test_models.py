"""``GET /api/models``."""

from __future__ import annotations

import httpx

from llm_chat.db import session_scope
from llm_chat.services import catalog
from llm_chat.services.access import SYSTEM
from tests.api.conftest import Caller
from tests.support.factories import make_model


async def test_enabled_models_default_first(client: httpx.AsyncClient, alice: Caller) -> None:
    first = make_model("http://127.0.0.1:9/v1", "b-model")
    second = make_model("http://127.0.0.1:9/v1", "a-model")
    hidden = make_model("http://127.0.0.1:9/v1", "hidden")
    with session_scope() as session:
        catalog.set_model_enabled.within(session, actor=SYSTEM, model_id=hidden, enabled=False)
    response = await client.get("/api/models", headers=alice.headers)
    assert response.status_code == 200
    models = response.json()
    assert [(m["id"], m["name"], m["is_default"]) for m in models] == [
        (first, "b-model", True),
        (second, "a-model", False),
    ]
    assert models[0]["model_name"] == "b-model"
    assert models[0]["provider"].startswith("Provider")
