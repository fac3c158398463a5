"""Conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import NEVER_REUSE_IDS, LongText, timestamp_column, utcnow

TITLE_MAX_LENGTH = 200


class MessageRole(StrEnum):
    """Who wrote a message."""

    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    """How a message ended. ``streaming`` while a reply is being written."""

    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    ERROR = "error"
    INTERRUPTED = "interrupted"


class Conversation(SQLModel, table=True):
    """A chat owned by one user."""

    __tablename__ = "conversation"  # type: ignore[assignment]
    __table_args__ = (
        sa.Index("ix_conversation_user_updated", "user_id", "updated_at"),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    title: str = Field(max_length=TITLE_MAX_LENGTH)
    model_id: int | None = Field(default=None, foreign_key="chat_model.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class Message(SQLModel, table=True):
    """One message of a conversation."""

    __tablename__ = "message"  # type: ignore[assignment]
    __table_args__ = (
        sa.Index("ix_message_conversation_id_id", "conversation_id", "id"),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE")
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_column=sa.Column(LongText, nullable=False))
    status: str = Field(default=MessageStatus.COMPLETE.value, max_length=16)
    # A short error code (see llm_chat.providers.errors), never a stack trace.
    error: str | None = Field(default=None, max_length=64)
    # A reasoning model's thinking before its answer: shown apart, never sent back.
    reasoning: str = Field(
        default="",
        # MySQL takes no literal default on a TEXT column; an expression works everywhere.
        sa_column=sa.Column(LongText, nullable=False, server_default=sa.text("('')")),
    )
    model_id: int | None = Field(default=None, foreign_key="chat_model.id", ondelete="SET NULL")
    # The model and provider that wrote a reply, as they were named then (the model may be
    # renamed or deleted later).
    model_name: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    provider_name: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    # How many earlier messages were left out of the reply's context to fit the model's
    # context window (0: the whole conversation was sent).
    context_dropped: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
