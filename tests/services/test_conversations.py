"""Conversations belong to one user; titles, order and deletion."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from llm_chat.db import session_scope
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import Message
from llm_chat.services import conversations
from llm_chat.services.turn_plan import plan_turn
from tests.fake_provider import FakeProvider
from tests.support.factories import make_model, make_user, save_turns


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Hello", "Hello"),
        ("  several   spaces\nand lines ", "several spaces and lines"),
        (
            "What are the export control rules for dual-use goods shipped to Norway?",
            "What are the export control rules for dual-use…",
        ),
        ("x" * 80, "x" * 50 + "…"),
    ],
)
def test_title_from_first_message(text: str, title: str) -> None:
    assert conversations.title_from_message(text) == title


def _turn(user_id: int, model_id: int, text: str, conversation_id: int | None = None) -> int:
    return save_turns(user_id, model_id, [(text, "A reply")], conversation_id=conversation_id)


def test_another_users_conversation_is_never_found(app_db: Engine, provider: FakeProvider) -> None:
    alice, bob = make_user(), make_user()
    model_id = make_model(provider.base_url)
    mine = _turn(alice.id, model_id, "Alice's secret question")
    with session_scope() as session:
        assert conversations.list_conversations.within(session, user_id=bob.id) == []
    attempts = [
        lambda s: conversations.list_messages.within(s, user_id=bob.id, conversation_id=mine),
        lambda s: conversations.rename_conversation.within(
            s, user_id=bob.id, conversation_id=mine, title="mine now"
        ),
        lambda s: conversations.delete_conversation.within(s, user_id=bob.id, conversation_id=mine),
        lambda s: plan_turn.within(
            s, user_id=bob.id, conversation_id=mine, model=model_id, text="hi"
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError) as caught, session_scope() as session:
            attempt(session)
        assert caught.value.code == "error.conversation_not_found"
    with session_scope() as session:
        listed = conversations.list_conversations.within(session, user_id=alice.id)
        messages = conversations.list_messages.within(
            session, user_id=alice.id, conversation_id=mine
        )
    assert [c.title for c in listed] == ["Alice's secret question"]
    assert [m.content for m in messages] == ["Alice's secret question", "A reply"]


def test_newest_first_rename_and_delete(app_db: Engine, provider: FakeProvider) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    first = _turn(user.id, model_id, "first")
    second = _turn(user.id, model_id, "second")
    _turn(user.id, model_id, "first again", conversation_id=first)
    with session_scope() as session:
        order = [c.id for c in conversations.list_conversations.within(session, user_id=user.id)]
        assert order == [first, second]
        conversations.rename_conversation.within(
            session, user_id=user.id, conversation_id=second, title="  Renamed  "
        )
        with pytest.raises(ValidationError):
            conversations.rename_conversation.within(
                session, user_id=user.id, conversation_id=second, title="   "
            )
        found = conversations.list_conversations.within(session, user_id=user.id, search="Ren")
        assert [c.title for c in found] == ["Renamed"]
    with session_scope() as session:
        conversations.delete_conversation.within(session, user_id=user.id, conversation_id=first)
    with session_scope() as session:
        left = conversations.list_conversations.within(session, user_id=user.id)
        orphans = session.exec(
            select(func.count()).select_from(Message).where(Message.conversation_id == first)
        ).one()
    assert [c.id for c in left] == [second]
    assert orphans == 0


def test_a_deleted_conversations_ids_are_never_reused(
    app_db: Engine, provider: FakeProvider
) -> None:
    # SQLite without AUTOINCREMENT gave the newest row's id to the next one: an old link to
    # a deleted conversation opened the next conversation made.
    user = make_user()
    model_id = make_model(provider.base_url)
    _turn(user.id, model_id, "An older conversation")
    newest = _turn(user.id, model_id, "Deleted soon")
    with session_scope() as session:
        newest_message = session.exec(
            select(func.max(Message.id)).where(Message.conversation_id == newest)
        ).one()
        conversations.delete_conversation.within(session, user_id=user.id, conversation_id=newest)
    created = _turn(user.id, model_id, "Made after the delete")
    with session_scope() as session:
        first_message = session.exec(
            select(func.min(Message.id)).where(Message.conversation_id == created)
        ).one()
    assert created > newest
    assert first_message is not None
    assert newest_message is not None
    assert first_message > newest_message
