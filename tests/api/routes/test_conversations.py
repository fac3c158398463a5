"""The conversation routes: list, read, rename, delete, export; only ever the caller's own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Caller, make_conversation
from tests.fake_provider import FakeProvider
from tests.support.factories import make_model


@pytest.fixture
def model_id(provider: FakeProvider, alice: Caller) -> int:
    """A model to talk to."""
    return make_model(provider.base_url)


async def test_list_is_paginated_newest_first_and_searchable(
    client: httpx.AsyncClient, alice: Caller, bob: Caller, model_id: int
) -> None:
    ids = [make_conversation(alice.user.id, model_id, f"Topic {n} tea") for n in range(3)]
    make_conversation(bob.user.id, model_id, "Bob's tea")
    page = (await client.get("/api/conversations?limit=2", headers=alice.headers)).json()
    assert [c["id"] for c in page["items"]] == [ids[2], ids[1]]
    assert (page["limit"], page["offset"], page["has_more"]) == (2, 0, True)
    assert page["items"][0]["title"] == "Topic 2 tea"
    assert page["items"][0]["updated_at"].endswith("Z")
    rest = (await client.get("/api/conversations?limit=2&offset=2", headers=alice.headers)).json()
    assert ([c["id"] for c in rest["items"]], rest["has_more"]) == ([ids[0]], False)
    found = await client.get("/api/conversations", params={"q": "Topic 1"}, headers=alice.headers)
    assert [c["id"] for c in found.json()["items"]] == [ids[1]]
    too_many = await client.get("/api/conversations?limit=101", headers=alice.headers)
    assert too_many.status_code == 422
    assert too_many.json()["detail"].startswith("query.limit:")


async def test_one_conversation_with_its_messages_page_by_page(
    client: httpx.AsyncClient, alice: Caller, model_id: int
) -> None:
    cid = make_conversation(alice.user.id, model_id, "Q1", "Q2", "Q3")
    url = f"/api/conversations/{cid}"
    latest = (await client.get(url, params={"limit": 4}, headers=alice.headers)).json()
    assert (latest["id"], latest["title"], latest["model_id"]) == (cid, "Q1", model_id)
    assert [m["content"] for m in latest["messages"]] == [
        "Q2",
        "Answer to Q2",
        "Q3",
        "Answer to Q3",
    ]
    assert latest["has_more"] is True
    reply = latest["messages"][1]
    assert (reply["role"], reply["status"], reply["error"]) == ("assistant", "complete", None)
    older = await client.get(
        url, params={"limit": 4, "before_id": latest["messages"][0]["id"]}, headers=alice.headers
    )
    assert [m["content"] for m in older.json()["messages"]] == ["Q1", "Answer to Q1"]
    assert older.json()["has_more"] is False


async def test_rename_and_delete(client: httpx.AsyncClient, alice: Caller, model_id: int) -> None:
    cid = make_conversation(alice.user.id, model_id, "Old title")
    url = f"/api/conversations/{cid}"
    renamed = await client.patch(url, json={"title": "  New   title "}, headers=alice.headers)
    assert (renamed.status_code, renamed.json()["title"]) == (200, "New title")
    blank = await client.patch(url, json={"title": "   "}, headers=alice.headers)
    assert blank.status_code == 422
    assert blank.json() == {"detail": "The title cannot be empty.", "code": "chat.title_empty"}
    long = await client.patch(url, json={"title": "x" * 201}, headers=alice.headers)
    assert long.status_code == 422
    assert (await client.get(url, headers=alice.headers)).json()["title"] == "New title"
    deleted = await client.delete(url, headers=alice.headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    assert (await client.delete(url, headers=alice.headers)).status_code == 404


async def test_export_as_markdown_and_json(
    client: httpx.AsyncClient, alice: Caller, model_id: int
) -> None:
    cid = make_conversation(alice.user.id, model_id, "Export me")
    markdown = await client.get(f"/api/conversations/{cid}/export", headers=alice.headers)
    assert markdown.status_code == 200
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.headers["content-disposition"] == (
        f'attachment; filename="conversation-{cid}.md"'
    )
    assert markdown.text.startswith("# Export me\n")
    assert "Answer to Export me" in markdown.text
    as_json = await client.get(
        f"/api/conversations/{cid}/export?format=json", headers=alice.headers
    )
    assert as_json.headers["content-type"] == "application/json"
    assert [m["content"] for m in as_json.json()["messages"]] == [
        "Export me",
        "Answer to Export me",
    ]
    unknown = await client.get(f"/api/conversations/{cid}/export?format=pdf", headers=alice.headers)
    assert unknown.status_code == 422


def _requests_for(cid: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", f"/api/conversations/{cid}", {}),
        ("GET", f"/api/conversations/{cid}?before_id=5", {}),
        ("PATCH", f"/api/conversations/{cid}", {"json": {"title": "Mine now"}}),
        ("GET", f"/api/conversations/{cid}/export", {}),
        ("GET", f"/api/conversations/{cid}/export?format=json", {}),
        ("GET", "/api/chat/stream", {"params": {"conversation_id": cid, "message": "Hi"}}),
        ("POST", "/api/chat", {"json": {"conversation_id": cid, "message": "Hi"}}),
        ("DELETE", f"/api/conversations/{cid}", {}),
    ]


async def test_another_user_s_conversation_is_not_found_on_every_route(
    client: httpx.AsyncClient, alice: Caller, bob: Caller, model_id: int
) -> None:
    cid = make_conversation(alice.user.id, model_id, "Alice's secret plan")
    for method, url, kwargs in _requests_for(cid):
        response = await client.request(method, url, headers=bob.headers, **kwargs)
        assert response.status_code == 404, (method, url)
        assert response.json() == {
            "detail": "This conversation does not exist or is not yours.",
            "code": "error.conversation_not_found",
        }
    still_there = (await client.get(f"/api/conversations/{cid}", headers=alice.headers)).json()
    assert still_there["title"] == "Alice's secret plan"
    assert len(still_there["messages"]) == 2
    missing = await client.get("/api/conversations/2147483647", headers=alice.headers)
    assert missing.status_code == 404


async def test_ids_that_can_name_nothing_get_422(client: httpx.AsyncClient, alice: Caller) -> None:
    for bad_id in ("abc", "0", "-1", "2147483648", "1.5"):
        response = await client.get(f"/api/conversations/{bad_id}", headers=alice.headers)
        assert response.status_code == 422, bad_id
        assert response.json()["detail"].startswith("path.conversation_id:")
