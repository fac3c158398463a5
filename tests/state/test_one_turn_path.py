"""Both doors, one turn: the same scenarios through the websocket, ``/api/chat`` and ``/v1``
leave the same rows and send the provider the same messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from llm_chat.config import get_settings
from llm_chat.db import session_scope
from llm_chat.models import ChatModel, Message, Role
from llm_chat.providers import ChatMessage
from llm_chat.security import create_token
from llm_chat.services import api_keys, catalog, users
from llm_chat.services.access import SYSTEM
from llm_chat.services.catalog import ModelSettings
from llm_chat.state.chat import ChatState
from llm_chat.state.stream import StreamState
from tests.fake_provider import FakeProvider, RecordedRequest, ReplySpec, generated_tokens
from tests.state.conftest import TabFactory
from tests.state.helpers import (
    TIMEOUT,
    conversations_of,
    make_user,
    offered,
    shown_messages,
    sign_in,
    stored_messages,
)
from tests.support.factories import add_model, save_turns, set_user_limits, usage_records
from tests.support.reflex_server import ReflexClient, ReflexServer
from tests.support.sse import Event, parse_events

DOORS = ("web", "api", "v1")
# The doors that continue a saved conversation (``/v1`` clients send theirs each time).
SAVED = ("web", "api")
# A long earlier turn: about 300 tokens, so that a 1,000-token window keeps only the newest.
LONG = "Tell me about clause {n}. " + "The parties agree to the terms set out here. " * 25
# A reply of about 0.9 s, for an admin's change to land in the middle of.
SLOW_TOKENS = 60
SLOW = ReplySpec(token_count=SLOW_TOKENS, delay=0.015)
SLOW_TEXT = "".join(generated_tokens(SLOW_TOKENS))


@dataclass(frozen=True)
class Said:
    """What a door showed of one turn: the reply, its status and how much context it kept."""

    conversation_id: int
    text: str
    status: str
    dropped: int


def _reply_rows(conversation_id: int) -> list[tuple[Any, ...]]:
    return [
        (m.role, m.content, m.status, m.error, m.model_name, m.provider_name, m.context_dropped)
        for m in stored_messages(conversation_id)
        if m.role == "assistant" and m.model_name  # the replies the turns wrote
    ]


class Doors:
    """One user asking through each door of the same running app."""

    def __init__(self, server: ReflexServer, tab: ReflexClient, user_id: int) -> None:
        self.server = server
        self.tab = tab
        self.user_id = user_id
        settings = get_settings()
        self.token = create_token(user_id, settings.jwt_secret, 3600)
        with session_scope() as session:
            self.key = api_keys.create_api_key.within(session, user_id=user_id, name="t").secret

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.server.url, timeout=TIMEOUT)

    async def ask(
        self,
        door: str,
        text: str,
        *,
        model: tuple[int, str],
        conversation_id: int | None,
        history: list[ChatMessage],
        during: Callable[[int], Awaitable[None]] | None = None,
    ) -> Said:
        """Ask ``text`` with ``model`` (id, name) in the conversation (the web and /api
        continue it; /v1 sends ``history`` itself). ``during``: run once the reply streams,
        with its conversation id."""
        if door == "web":
            return await self._web(text, model[0], conversation_id, during)
        if door == "api":
            return await self._api(text, model[1], conversation_id, during)
        return await self._v1(text, model[1], history, during)

    async def _web(
        self,
        text: str,
        model_id: int,
        conversation_id: int | None,
        during: Callable[[int], Awaitable[None]] | None,
    ) -> Said:
        tab = self.tab
        if tab.get(ChatState, "conversation_id") != (conversation_id or 0):
            await tab.navigate(f"/c/{conversation_id}" if conversation_id else "/")
        if tab.get(ChatState, "selected_model") != str(model_id):
            # As a person would: open the dropdown (it re-reads the models), pick one, if
            # the page offers it (a disabled model is gone from every page): the page then
            # sends what it has.
            await tab.call(ChatState.refresh_models, {"is_open": True})
            with contextlib.suppress(TimeoutError):
                await tab.wait_for(
                    lambda t: str(model_id) in [m["id"] for m in offered(t)], timeout=3
                )
                await tab.call(
                    ChatState.pick_model,
                    {"model_id": str(model_id)},
                    until=lambda t: t.get(ChatState, "selected_model") == str(model_id),
                )
        count = len(shown_messages(tab))
        await tab.emit(ChatState.send, {"form": {"message": text}})
        if during is not None:
            # The reply streams once its first batch is shown; its rows exist by then.
            await tab.wait_for(lambda t: (t.get(StreamState, "seq") or 0) > 0)
            await during(tab.get(ChatState, "conversation_id"))
        await tab.wait_for(
            lambda t: (
                t.get(ChatState, "error_key") != ""
                or (
                    t.get(ChatState, "is_streaming") is False
                    and len(shown_messages(t)) == count + 2
                )
            ),
            timeout=TIMEOUT,
        )
        if tab.get(ChatState, "error_key"):
            raise RefusedError(tab.get(ChatState, "error_key"))
        reply = shown_messages(tab)[-1]
        return Said(
            tab.get(ChatState, "conversation_id"),
            reply["content"],
            reply["status"],
            reply["context_dropped"],
        )

    async def _api(
        self,
        text: str,
        model: str,
        conversation_id: int | None,
        during: Callable[[int], Awaitable[None]] | None,
    ) -> Said:
        body = {"message": text, "model": model, "conversation_id": conversation_id}
        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            self.http() as http,
            http.stream("POST", "/api/chat", json=body, headers=headers) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                raise RefusedError(response.json()["code"])
            cid = int(response.headers["x-conversation-id"])
            if during is not None:
                await during(cid)
            events = parse_events((await response.aread()).decode())
        end = next(e for e in events if e.name == "end").json()
        return Said(cid, _text_of(events), end["status"], end["context"]["dropped_messages"])

    async def _v1(
        self,
        text: str,
        model: str,
        history: list[ChatMessage],
        during: Callable[[int], Awaitable[None]] | None,
    ) -> Said:
        body = {
            "model": model,
            "messages": [*history, {"role": "user", "content": text}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        headers = {"Authorization": f"Bearer {self.key}"}
        async with (
            self.http() as http,
            http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                raise RefusedError(response.json()["error"]["code"])
            cid = int(response.headers["x-conversation-id"])
            if during is not None:
                await during(cid)
            events = parse_events((await response.aread()).decode())
        chunks = [e.json() for e in events if e.data != "[DONE]"]
        failed = any("error" in c for c in chunks)
        text_out = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
        )
        usage = next((c["usage"] for c in chunks if c.get("usage")), None)
        # /v1 tells a failure as an error event; the stored row says how it ended.
        status = _message_status(cid) if failed else "complete"
        return Said(cid, text_out, status, usage["dropped_messages"] if usage else -1)


class RefusedError(Exception):
    """A door refused the turn; the argument is the code it gave."""


def _text_of(events: list[Event]) -> str:
    return "".join(
        e.json().get("text", "") for e in events if e.name == "message" and e.data != "[DONE]"
    )


def _message_status(conversation_id: int) -> str:
    return stored_messages(conversation_id)[-1].status


def _model(
    provider: FakeProvider, name: str, *, api_key: str = "sk-unused", **options: Any
) -> tuple[int, str]:
    with session_scope() as session:
        model_id = add_model(
            session,
            provider.base_url,
            provider_name=f"Loopback {name}",
            display_name=name,
            api_key=api_key,
            **options,
        )
    return model_id, name


@pytest.fixture
async def doors(app_db: Engine, reflex_server: ReflexServer, open_tab: TabFactory) -> Doors:
    user = make_user("doors@example.com")
    tab = open_tab()
    await sign_in(tab, "doors@example.com")
    return Doors(reflex_server, tab, user.id)


@pytest.fixture
def admin_headers(app_db: Engine) -> dict[str, str]:
    """An admin's ``Authorization``, for ``/api/admin``."""
    admin = make_user("admin@example.com")
    with session_scope() as session:
        users.set_role.within(session, email="admin@example.com", role=Role.ADMIN)
    token = create_token(admin.id, get_settings().jwt_secret, 3600)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("door", DOORS)
async def test_new_conversation_then_continue(
    doors: Doors, provider: FakeProvider, door: str
) -> None:
    model = _model(provider, "Counsel", system_prompt="Answer as a lawyer.")
    first = await doors.ask(door, "Question one", model=model, conversation_id=None, history=[])
    assert (first.text, first.status, first.dropped) == ("Echo: Question one", "complete", 0)
    history: list[ChatMessage] = [
        {"role": "user", "content": "Question one"},
        {"role": "assistant", "content": "Echo: Question one"},
    ]
    second = await doors.ask(
        door, "Question two", model=model, conversation_id=first.conversation_id, history=history
    )
    assert (second.text, second.status) == ("Echo: Question two", "complete")
    assert provider.last_request is not None
    assert provider.last_request.messages == [
        {"role": "system", "content": "Answer as a lawyer."},
        *history,
        {"role": "user", "content": "Question two"},
    ]
    # The same rows, whichever door: /v1 saves a new conversation per request (with the
    # client's history), the others continue theirs.
    rows = _reply_rows(second.conversation_id)
    assert rows[-1] == (
        "assistant",
        "Echo: Question two",
        "complete",
        None,
        "Counsel",
        "Loopback Counsel",
        0,
    )
    assert [(m.role, m.content) for m in stored_messages(second.conversation_id)] == [
        ("user", "Question one"),
        ("assistant", "Echo: Question one"),
        ("user", "Question two"),
        ("assistant", "Echo: Question two"),
    ]


@pytest.mark.parametrize("door", DOORS)
async def test_a_long_conversation_is_cut_to_the_context_window(
    doors: Doors, provider: FakeProvider, door: str
) -> None:
    model = _model(provider, "Tight", context_window=1000, max_tokens=100)
    earlier = [(LONG.format(n=n), f"Answer {n}.") for n in range(6)]
    conversation_id = save_turns(doors.user_id, model[0], earlier)
    history: list[ChatMessage] = []
    for question, answer in earlier:
        history.append({"role": "user", "content": question})
        history.append({"role": "assistant", "content": answer})
    said = await doors.ask(
        door, "And the last one?", model=model, conversation_id=conversation_id, history=history
    )
    sent = provider.last_request
    assert sent is not None
    # The newest turns that fit 1,000 tokens less 100 for the reply: the oldest left out,
    # whole turns only, the question last.
    kept = len(sent.messages) - 1
    assert 0 < kept < len(history)
    assert kept % 2 == 0
    assert sent.messages[:-1] == history[-kept:]
    assert sent.messages[-1] == {"role": "user", "content": "And the last one?"}
    assert said.dropped == len(history) - kept
    assert stored_messages(said.conversation_id)[-1].context_dropped == said.dropped


@pytest.mark.parametrize("door", DOORS)
async def test_a_provider_failure_mid_stream_is_saved_the_same(
    doors: Doors, provider: FakeProvider, door: str
) -> None:
    model = _model(provider, "Flaky")
    provider.enqueue(ReplySpec(token_count=40, delay=0.005, drop_after=5))
    said = await doors.ask(door, "Go on", model=model, conversation_id=None, history=[])
    [row] = _reply_rows(said.conversation_id)
    assert row[2:4] == ("interrupted", "provider.interrupted")
    assert row[1] == said.text
    assert len(said.text) == 5 * 5  # five generated tokens, then the connection dropped
    assert said.status == "interrupted"


@pytest.mark.parametrize("door", DOORS)
async def test_a_stop_from_any_door_keeps_the_partial_reply(
    doors: Doors, provider: FakeProvider, door: str
) -> None:
    model = _model(provider, "Slow")
    provider.enqueue(ReplySpec(token_count=400, delay=0.01))

    async def stop_it(conversation_id: int) -> None:
        await asyncio.sleep(0.4)
        # A stop from another client of the same user, whichever door started the turn.
        async with doors.http() as http:
            stopped = await http.post(
                f"/api/chat/{conversation_id}/stop",
                headers={"Authorization": f"Bearer {doors.token}"},
            )
        assert stopped.status_code == 204

    said = await doors.ask(
        door, "Long story", model=model, conversation_id=None, history=[], during=stop_it
    )
    [row] = _reply_rows(said.conversation_id)
    assert row[2] == "stopped"
    assert 0 < len(row[1]) < 400 * 5
    assert said.text == row[1]
    request = provider.wait_for_requests(1)[0]
    assert request.client_disconnected


@pytest.mark.parametrize("door", DOORS)
async def test_a_model_disabled_meanwhile(doors: Doors, provider: FakeProvider, door: str) -> None:
    model = _model(provider, "Retired")
    provider.enqueue(ReplySpec(token_count=60, delay=0.01))

    async def disable(_conversation_id: int) -> None:
        with session_scope() as session:
            catalog.set_model_enabled.within(
                session, actor=SYSTEM, model_id=model[0], enabled=False
            )

    # A reply already streaming finishes on the model it started with.
    said = await doors.ask(
        door, "Before", model=model, conversation_id=None, history=[], during=disable
    )
    assert said.status == "complete"
    assert _reply_rows(said.conversation_id)[0][4] == "Retired"
    # The next message that names it is refused, and nothing is written or asked.
    with session_scope() as session:
        before = len(session.query(Message).all())
    requests = len(provider.chat_requests)
    with pytest.raises(RefusedError) as refused:
        await doors.ask(
            door,
            "After",
            model=model,
            conversation_id=said.conversation_id,
            history=[
                {"role": "user", "content": "Before"},
                {"role": "assistant", "content": said.text},
            ],
        )
    # The web page stopped offering it at once, and had no other model to send.
    assert refused.value.args[0] in ("provider.model_unavailable", "model_not_found") or (
        door == "web" and refused.value.args[0] == "chat.no_models"
    )
    with session_scope() as session:
        assert len(session.query(Message).all()) == before
        assert session.get(ChatModel, model[0]) is not None
    assert len(provider.chat_requests) == requests
    assert len(conversations_of(doors.user_id)) == 1


@pytest.mark.parametrize("door", DOORS)
async def test_a_send_over_a_limit_asks_and_writes_nothing(
    doors: Doors, provider: FakeProvider, door: str
) -> None:
    model = _model(provider, "Limited")
    set_user_limits(doors.user_id, messages_per_minute=1)
    said = await doors.ask(door, "The one", model=model, conversation_id=None, history=[])
    assert said.status == "complete"
    with session_scope() as session:
        before = len(session.query(Message).all())
    with pytest.raises(RefusedError) as refused:
        await doors.ask(
            door,
            "One too many",
            model=model,
            conversation_id=said.conversation_id,
            history=[
                {"role": "user", "content": "The one"},
                {"role": "assistant", "content": said.text},
            ],
        )
    assert refused.value.args[0] == "limits.messages_per_minute"
    assert len(provider.chat_requests) == 1
    with session_scope() as session:
        assert len(session.query(Message).all()) == before
    if door == "web":
        # The composer says when to try again (the text keeps its place in the composer).
        assert doors.tab.get(ChatState, "retry_minutes") == 1
        assert doors.tab.get(ChatState, "is_streaming") is False
    # Every door recorded the same: one turn, its tokens as the provider counted them.
    [record] = usage_records(doors.user_id)
    assert record.estimated is False
    assert record.completion_tokens == len(said.text.split())


def _streaming_request(provider: FakeProvider) -> RecordedRequest:
    """The one request so far, its reply still streaming (checked when a change is made)."""
    [request] = provider.chat_requests
    assert not request.finished, "the reply ended before the change"
    return request


def _answered_as_asked(provider: FakeProvider) -> RecordedRequest:
    """The one request so far, sent once, answered to its end."""
    [request] = provider.wait_for_requests(1)
    assert request.completed
    assert request.tokens_sent == SLOW_TOKENS
    return request


@pytest.mark.parametrize("door", DOORS)
async def test_a_model_edited_meanwhile(doors: Doors, provider: FakeProvider, door: str) -> None:
    model = _model(
        provider, "Draft", model_name="draft-model", system_prompt="Be brief.", temperature=0.3
    )
    provider.enqueue(SLOW)

    async def edit(_conversation_id: int) -> None:
        request = _streaming_request(provider)
        info = await catalog.get_model(actor=SYSTEM, model_id=model[0])
        settings = replace(
            ModelSettings.of(info),
            display_name="Final",
            model_name="final-model",
            system_prompt="Be thorough.",
            temperature=0.9,
        )
        await catalog.update_model(actor=SYSTEM, model_id=model[0], settings=settings)
        assert not request.finished

    said = await doors.ask(
        door, "Before", model=model, conversation_id=None, history=[], during=edit
    )
    # The reply finished as it was asked for, and names the model as it was.
    assert (said.status, said.text) == ("complete", SLOW_TEXT)
    request = _answered_as_asked(provider)
    assert (request.model, request.temperature) == ("draft-model", 0.3)
    assert request.messages[0] == {"role": "system", "content": "Be brief."}
    assert _reply_rows(said.conversation_id)[0][1:6] == (
        SLOW_TEXT,
        "complete",
        None,
        "Draft",
        "Loopback Draft",
    )
    if door == "web":
        assert shown_messages(doors.tab)[-1]["model"] == "Draft"
        # The open page shows the model's new name by itself.
        await doors.tab.wait_for(lambda t: [m["name"] for m in offered(t)] == ["Final"])
    # The next message goes out as the model is now.
    history: list[ChatMessage] = [
        {"role": "user", "content": "Before"},
        {"role": "assistant", "content": SLOW_TEXT},
    ]
    after = await doors.ask(
        door,
        "After",
        model=(model[0], "Final"),
        conversation_id=said.conversation_id,
        history=history,
    )
    assert after.status == "complete"
    sent = provider.last_request
    assert sent is not None
    assert (sent.model, sent.temperature) == ("final-model", 0.9)
    assert sent.messages == [
        {"role": "system", "content": "Be thorough."},
        *history,
        {"role": "user", "content": "After"},
    ]
    assert _reply_rows(after.conversation_id)[-1][4:6] == ("Final", "Loopback Draft")


@pytest.mark.parametrize("gone", ["model", "provider"])
@pytest.mark.parametrize("door", SAVED)
async def test_a_model_deleted_meanwhile(
    doors: Doors,
    provider: FakeProvider,
    admin_headers: dict[str, str],
    door: str,
    gone: str,
) -> None:
    keeper = _model(provider, "Keeper", model_name="keeper-model")  # the default
    doomed = _model(provider, "Doomed", model_name="doomed-model")
    provider.enqueue(SLOW)

    async def delete(_conversation_id: int) -> None:
        request = _streaming_request(provider)
        async with doors.http() as http:
            if gone == "model":
                deleted = await http.delete(f"/api/admin/models/{doomed[0]}", headers=admin_headers)
            else:
                info = await catalog.get_model(actor=SYSTEM, model_id=doomed[0])
                deleted = await http.delete(
                    f"/api/admin/providers/{info.provider_id}",
                    params={"with_models": "true"},
                    headers=admin_headers,
                )
        assert deleted.status_code == 204
        assert not request.finished

    said = await doors.ask(
        door, "Before", model=doomed, conversation_id=None, history=[], during=delete
    )
    assert (said.status, said.text) == ("complete", SLOW_TEXT)
    assert _answered_as_asked(provider).model == "doomed-model"
    [reply] = stored_messages(said.conversation_id)[1:]
    assert (reply.status, reply.content, reply.model_id) == ("complete", SLOW_TEXT, None)
    assert (reply.model_name, reply.provider_name) == ("Doomed", "Loopback Doomed")
    with session_scope() as session:
        assert session.get(ChatModel, doomed[0]) is None
    history: list[ChatMessage] = [
        {"role": "user", "content": "Before"},
        {"role": "assistant", "content": SLOW_TEXT},
    ]
    if door == "web":
        # The open page stopped offering it by itself, and picked the default.
        await doors.tab.wait_for(lambda t: [m["name"] for m in offered(t)] == ["Keeper"])
        assert doors.tab.get(ChatState, "selected_model") == str(keeper[0])
    else:
        # Named, it is refused, and nothing is written or asked.
        with pytest.raises(RefusedError) as refused:
            await doors.ask(
                door,
                "After",
                model=doomed,
                conversation_id=said.conversation_id,
                history=history,
            )
        assert refused.value.args[0] == "provider.model_unavailable"
        assert len(stored_messages(said.conversation_id)) == 2
        assert len(provider.chat_requests) == 1
    # The conversation goes on with the default.
    after = await doors.ask(
        door,
        "After",
        model=(keeper[0], ""),
        conversation_id=said.conversation_id,
        history=history,
    )
    assert after.status == "complete"
    sent = provider.last_request
    assert sent is not None
    assert sent.model == "keeper-model"
    assert sent.messages == [*history, {"role": "user", "content": "After"}]
    assert _reply_rows(after.conversation_id)[-1][4:6] == ("Keeper", "Loopback Keeper")


@pytest.mark.parametrize("door", DOORS)
async def test_a_provider_moved_to_a_new_host_and_key_meanwhile(
    doors: Doors, provider: FakeProvider, admin_headers: dict[str, str], door: str
) -> None:
    provider.api_key = "sk-old"  # each host takes only its own key
    model = _model(provider, "Mover", api_key="sk-old")
    info = await catalog.get_model(actor=SYSTEM, model_id=model[0])
    provider.enqueue(SLOW)
    with FakeProvider(api_key="sk-new") as new_host:

        async def move(_conversation_id: int) -> None:
            request = _streaming_request(provider)
            async with doors.http() as http:
                moved = await http.patch(
                    f"/api/admin/providers/{info.provider_id}",
                    json={"name": "Moved", "base_url": new_host.base_url, "api_key": "sk-new"},
                    headers=admin_headers,
                )
            assert moved.status_code == 200, moved.text
            assert not request.finished

        said = await doors.ask(
            door, "Before", model=model, conversation_id=None, history=[], during=move
        )
        assert (said.status, said.text) == ("complete", SLOW_TEXT)
        request = _answered_as_asked(provider)
        assert request.headers["authorization"] == "Bearer sk-old"
        assert new_host.chat_requests == []
        assert _reply_rows(said.conversation_id)[0][4:6] == ("Mover", "Loopback Mover")

        after = await doors.ask(
            door,
            "After",
            model=model,
            conversation_id=said.conversation_id,
            history=[
                {"role": "user", "content": "Before"},
                {"role": "assistant", "content": SLOW_TEXT},
            ],
        )
        assert after.status == "complete"
        [sent] = new_host.chat_requests
        assert sent.headers["authorization"] == "Bearer sk-new"
        assert sent.messages[-1] == {"role": "user", "content": "After"}
        assert len(provider.chat_requests) == 1
        assert _reply_rows(after.conversation_id)[-1][4:6] == ("Mover", "Moved")
