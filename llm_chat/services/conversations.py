"""Conversations and messages, always scoped to their owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from llm_chat.db import inserted_id, transaction
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import Conversation, Message, MessageRole, MessageStatus
from llm_chat.models.base import utcnow
from llm_chat.models.conversation import TITLE_MAX_LENGTH

TITLE_FROM_MESSAGE_CHARS = 50
# A reply still marked as streaming whose last checkpoint is older than this was cut off
# by a server stop; live streams checkpoint far more often.
STALE_STREAM_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation as the sidebar lists it."""

    id: int
    title: str
    model_id: int | None
    updated_at: datetime


@dataclass(frozen=True)
class MessageView:
    """A stored message as the chat view shows it."""

    id: int
    role: MessageRole
    content: str
    status: MessageStatus
    # A code such as ``provider.timeout`` when the reply failed.
    error: str | None
    # A reasoning model's thinking, shown apart from the answer.
    reasoning: str
    model_id: int | None
    # The model and provider that wrote a reply, as they were named then ("" for questions).
    model_name: str
    provider_name: str
    # How many earlier messages the reply's context left out.
    context_dropped: int
    created_at: datetime


def title_from_message(text: str) -> str:
    """A title from the first ~50 characters of a message, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= TITLE_FROM_MESSAGE_CHARS:
        return flat
    cut = flat[:TITLE_FROM_MESSAGE_CHARS]
    if " " in cut[TITLE_FROM_MESSAGE_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


_CONVERSATIONS = Conversation.__table__  # type: ignore[attr-defined]  (SQLModel sets it)


def owned_by(
    user_id: int | sa.BindParameter[int], conversation_id: int | sa.BindParameter[int]
) -> sa.ColumnElement[bool]:
    """The one condition that a conversation is ``conversation_id`` and belongs to ``user_id``.

    Every read or write of a conversation by its owner goes through it (values, or bind
    parameters for statements built once).
    """
    return sa.and_(_CONVERSATIONS.c.id == conversation_id, _CONVERSATIONS.c.user_id == user_id)


def get_owned(session: Session, *, user_id: int, conversation_id: int) -> Conversation:
    """The conversation if ``user_id`` owns it.

    Raises:
        NotFoundError: it does not exist or belongs to someone else (not told apart).
    """
    conversation = session.exec(
        select(Conversation).where(owned_by(user_id, conversation_id))
    ).first()
    if conversation is None:
        raise NotFoundError("error.conversation_not_found")
    return conversation


@transaction
def get_summary(session: Session, *, user_id: int, conversation_id: int) -> ConversationSummary:
    """The user's conversation as the list shows it.

    Raises:
        NotFoundError: not the user's conversation.
    """
    c = get_owned(session, user_id=user_id, conversation_id=conversation_id)
    return ConversationSummary(
        id=conversation_id, title=c.title, model_id=c.model_id, updated_at=c.updated_at
    )


@transaction
def list_conversations(
    session: Session, *, user_id: int, limit: int = 200, offset: int = 0, search: str = ""
) -> list[ConversationSummary]:
    """The user's conversations, newest first."""
    query = select(Conversation).where(Conversation.user_id == user_id)
    if search.strip():
        query = query.where(col(Conversation.title).contains(search.strip(), autoescape=True))
    query = query.order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
    rows = session.exec(query.offset(offset).limit(limit)).all()
    return [
        ConversationSummary(
            id=c.id or 0, title=c.title, model_id=c.model_id, updated_at=c.updated_at
        )
        for c in rows
    ]


# Values come at execution: no ORM, and no statement built and cache-keyed per call.
_INSERT_CONVERSATION = sa.insert(Conversation.__table__)  # type: ignore[attr-defined]


def create_conversation(session: Session, *, user_id: int, title: str, model_id: int | None) -> int:
    """A new, empty conversation; returns its id (one INSERT)."""
    result = session.connection().execute(
        _INSERT_CONVERSATION,
        {"user_id": user_id, "title": title[:TITLE_MAX_LENGTH] or "…", "model_id": model_id},
    )
    return inserted_id(result)


def _view(message: Message, now: datetime) -> MessageView:
    status = MessageStatus(message.status)
    if status == MessageStatus.STREAMING and now - message.updated_at > STALE_STREAM_AFTER:
        status = MessageStatus.INTERRUPTED
    return MessageView(
        id=message.id or 0,
        role=MessageRole(message.role),
        content=message.content,
        status=status,
        error=message.error,
        reasoning=message.reasoning,
        model_id=message.model_id,
        model_name=message.model_name,
        provider_name=message.provider_name,
        context_dropped=message.context_dropped,
        created_at=message.created_at,
    )


@transaction
def list_messages(
    session: Session,
    *,
    user_id: int,
    conversation_id: int,
    limit: int | None = None,
    before_id: int | None = None,
) -> list[MessageView]:
    """The conversation's messages, oldest first; ``limit`` keeps the latest ones.

    Raises:
        NotFoundError: not the user's conversation.
    """
    get_owned(session, user_id=user_id, conversation_id=conversation_id)
    query = select(Message).where(Message.conversation_id == conversation_id)
    if before_id is not None:
        query = query.where(col(Message.id) < before_id)
    query = query.order_by(col(Message.id).desc())
    if limit is not None:
        query = query.limit(limit)
    now = utcnow()
    return [_view(m, now) for m in reversed(session.exec(query).all())]


@transaction
def rename_conversation(
    session: Session, *, user_id: int, conversation_id: int, title: str
) -> ConversationSummary:
    """Give the conversation a new title.

    Raises:
        ValidationError: an empty or overlong title.
        NotFoundError: not the user's conversation.
    """
    title = " ".join(title.split())
    if not title:
        raise ValidationError("chat.title_empty")
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError("chat.title_too_long")
    conversation = get_owned(session, user_id=user_id, conversation_id=conversation_id)
    conversation.title = title
    session.add(conversation)
    return ConversationSummary(
        id=conversation_id,
        title=title,
        model_id=conversation.model_id,
        updated_at=conversation.updated_at,
    )


@transaction
def delete_conversation(session: Session, *, user_id: int, conversation_id: int) -> None:
    """Delete the conversation and its messages.

    Raises:
        NotFoundError: not the user's conversation.
    """
    conversation = get_owned(session, user_id=user_id, conversation_id=conversation_id)
    session.exec(  # type: ignore[call-overload]
        delete(Message).where(col(Message.conversation_id) == conversation_id)
    )
    session.delete(conversation)
