"""``/api/admin/prices``: the currency of model prices, named with every cost of the usage
routes; admins only, audited."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from llm_chat.models import Role
from llm_chat.models.base import utcnow
from llm_chat.services import audit
from llm_chat.services.access import SYSTEM
from tests.api.conftest import Caller, sign_in
from tests.support.factories import add_usage, make_user


@pytest.fixture
def admin(alice: Caller) -> Caller:
    """A signed-in admin (besides alice, a user)."""
    return sign_in(make_user(role=Role.ADMIN))


async def test_an_admin_sets_the_currency_and_every_cost_names_it(
    client: httpx.AsyncClient, alice: Caller, admin: Caller
) -> None:
    add_usage(alice.user.id, at=utcnow(), model_name="gpt", prompt_tokens=4, cost_nanos=10**7)
    got = await client.get("/api/admin/prices", headers=admin.headers)
    assert got.json() == {"currency": "USD"}
    assert (await client.get("/api/usage", headers=alice.headers)).json()["currency"] == "USD"
    put = await client.put("/api/admin/prices", json={"currency": "cny"}, headers=admin.headers)
    assert (put.status_code, put.json()) == (200, {"currency": "CNY"})
    report = (await client.get("/api/admin/usage", headers=admin.headers)).json()
    assert (report["currency"], report["total"]["cost"]) == ("CNY", "0.01")
    assert (await client.get("/api/usage", headers=alice.headers)).json()["currency"] == "CNY"
    exported = await client.get("/api/admin/usage?format=csv&group=model", headers=admin.headers)
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][-3:] == ["cost", "estimated_turns", "currency"]
    assert rows[1] == ["gpt", "1", "4", "0", "4", "0.010000000", "0", "CNY"]
    for code in ("XYZ", "usd1", "$$$"):
        bad = await client.put("/api/admin/prices", json={"currency": code}, headers=admin.headers)
        assert bad.status_code == 422
    bad = await client.put("/api/admin/prices", json={"currency": "XYZ"}, headers=admin.headers)
    assert bad.json()["code"] == "admin.invalid_currency"
    [entry] = (await audit.list_entries(actor=SYSTEM)).entries
    assert (entry.action, entry.target_name, entry.new_values) == (
        "setting.update",
        "prices",
        {"currency": "CNY"},
    )


async def test_a_user_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, alice: Caller, admin: Caller
) -> None:
    for method, body in (("GET", None), ("PUT", {"currency": "EUR"})):
        response = await client.request(
            method, "/api/admin/prices", json=body, headers=alice.headers
        )
        assert response.status_code == 403
        assert response.json()["code"] == "admin.only_admins"
    assert (await client.get("/api/admin/prices", headers=admin.headers)).json() == {
        "currency": "USD"
    }
    assert (await audit.list_entries(actor=SYSTEM)).total == 0
