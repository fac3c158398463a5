"""One-time invitations to create an account (how people join when sign-up is closed)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from llm_chat.models.base import optional_timestamp_column, timestamp_column, utcnow


class Invite(SQLModel, table=True):
    """An admin's invitation for one email address, used at most once.

    Only the SHA-256 of the link's token is kept: the link itself is shown to the admin
    once, and a copy of the database cannot be turned into accounts.
    """

    __tablename__ = "invite"  # type: ignore[assignment]

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=255, index=True)
    # The role the account gets.
    role: str = Field(max_length=16)
    # The admin who made it (None: deleted since).
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())
    # When it was used, and the account it made (None: not yet, or deleted since).
    used_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    used_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
