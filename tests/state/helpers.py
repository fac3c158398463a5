"""App-level steps for the websocket tests: accounts, models, signing in, reading the DB."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import col, select

from llm_chat.db import session_scope
from llm_chat.models import Conversation, Message
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from llm_chat.services.users import UserInfo
from llm_chat.state.auth import AuthState, LoginState
from llm_chat.state.chat import ChatState
from llm_chat.state.stream import StreamState
from tests.fake_provider import FakeProvider
from tests.support.factories import save_turns
from tests.support.reflex_server import Frame, ReflexClient

PASSWORD = "Tq9-walnut-harbor"
TIMEOUT = 20.0


def make_user(email: str, password: str = PASSWORD) -> UserInfo:
    """An account made through the service layer."""
    with session_scope() as session:
        return users.register_user.within(session, email=email, password=password)


def make_provider(provider: FakeProvider, name: str = "Fake", api_key: str = "sk-unused") -> int:
    """A provider pointing at the fake; returns its id."""
    with session_scope() as session:
        info = catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name=name,
            kind="openai",
            base_url=provider.base_url,
            api_key=api_key,
        )
    return info.id


def make_model(provider_id: int, model_name: str, display_name: str = "Fake model") -> int:
    """A model of provider ``provider_id``; ``model_name`` scripts the fake; returns its id."""
    with session_scope() as session:
        info = catalog.create_model.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            display_name=display_name,
            model_name=model_name,
        )
    return info.id


async def sign_in(tab: ReflexClient, email: str, password: str = PASSWORD) -> None:
    """Open /login, submit the form, follow the redirect and wait for the chat page."""
    await tab.connect("/login")
    since = len(tab.visited)
    await tab.emit(LoginState.sign_in, {"form": {"email": email, "password": password}})
    await tab.wait_redirected("/", since=since, timeout=TIMEOUT)
    assert tab.get(AuthState, "signed_in") is True


async def send(tab: ReflexClient, text: str, *, timeout: float = TIMEOUT) -> int:  # noqa: ASYNC109
    """Send ``text`` and wait until its reply has ended; returns the index of the first frame."""
    mark = len(tab.frames)
    count = len(shown_messages(tab))
    await tab.emit(ChatState.send, {"form": {"message": text}})
    await tab.wait_for(
        lambda t: t.get(ChatState, "is_streaming") is False and len(shown_messages(t)) == count + 2,
        timeout=timeout,
    )
    return mark


def offered(tab: ReflexClient) -> list[dict[str, Any]]:
    """The models the tab's dropdown offers, in its order (the groups' models one after
    another)."""
    return [m for group in tab.get(ChatState, "model_groups") or [] for m in group["models"]]


def stored_messages(conversation_id: int | None) -> list[Message]:
    """The conversation's messages in the database, oldest first."""
    assert conversation_id is not None
    with session_scope() as session:
        return list(
            session.exec(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(col(Message.id))
            ).all()
        )


def conversations_of(user_id: int) -> list[Conversation]:
    """The user's conversations in the database, oldest first."""
    with session_scope() as session:
        return list(
            session.exec(
                select(Conversation)
                .where(Conversation.user_id == user_id)
                .order_by(col(Conversation.id))
            ).all()
        )


def history(rows: list[Message]) -> list[dict[str, str]]:
    """Stored messages as the provider should receive them."""
    return [{"role": m.role, "content": m.content} for m in rows if m.content]


def assemble_stream(frames: Sequence[Frame]) -> list[tuple[float, str]]:
    """The streaming reply's text after each frame that changed it, as the browser builds it,
    with the frame's arrival time.

    Mirrors ``assets/streaming_text.jsx``: a frame that carries ``seq`` or ``base`` is a
    batch (a ``chunk`` alone is only remembered); a batch is appended when its ``seq`` follows
    the last one applied; ``seq == base`` replaces the text (a start or a resync).
    """
    text, applied = "", None
    current: dict[str, Any] = {"seq": 0, "base": 0, "chunk": ""}
    snapshots: list[tuple[float, str]] = []
    for frame in frames:
        changed = [name for name in current if frame.has(StreamState, name)]
        for name in changed:
            current[name] = frame.get(StreamState, name)
        if "seq" not in changed and "base" not in changed:
            continue
        seq, base, chunk = current["seq"], current["base"], current["chunk"]
        if seq == base:
            text, applied = chunk, seq
        elif applied is not None and seq == applied + 1:
            text, applied = text + chunk, seq
        else:
            continue
        snapshots.append((frame.received_at, text))
    return snapshots


def streamed_texts(tab: ReflexClient, since: int = 0) -> list[str]:
    """The streaming reply's text after each frame of ``tab`` that changed it."""
    return [text for _, text in assemble_stream(tab.frames[since:])]


def shown_messages(tab: ReflexClient) -> list[dict[str, Any]]:
    """The finished messages the page shows, as the browser assembles them.

    Mirrors ``assets/turns_since_load.js`` (used by ``components/messages.py``): ``messages``
    as loaded, then each ``last_turn`` sent since, appended once per new ``turns_since_load``;
    a new ``load_seq`` starts over.
    """
    loaded: list[dict[str, Any]] = []
    appended: list[dict[str, Any]] = []
    load, count = None, 0
    current: dict[str, Any] = {"load_seq": 0, "turns_since_load": 0, "last_turn": []}
    for frame in tab.frames:
        if frame.has(ChatState, "messages"):
            loaded = list(frame.get(ChatState, "messages"))
        changed = [name for name in current if frame.has(ChatState, name)]
        for name in changed:
            current[name] = frame.get(ChatState, name)
        if not changed:
            continue
        if current["load_seq"] != load:
            load, count = current["load_seq"], current["turns_since_load"]
            appended = list(current["last_turn"])
        elif current["turns_since_load"] != count:
            count = current["turns_since_load"]
            appended = [*appended, *current["last_turn"]]
    return [*loaded, *appended]


def seed_turns(
    user_id: int,
    model_id: int,
    turns: range,
    reply: Callable[[int], str],
    conversation_id: int | None = None,
) -> int:
    """Finished turns "Question n" / ``reply(n)``; returns the conversation's id."""
    return save_turns(
        user_id,
        model_id,
        [(f"Question {n}", reply(n)) for n in turns],
        conversation_id=conversation_id,
    )
