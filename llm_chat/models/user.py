"""User accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import NEVER_REUSE_IDS, timestamp_column, utcnow


class Role(StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    USER = "user"


class User(SQLModel, table=True):
    """A person who can sign in. ``password_hash`` never leaves the services."""

    __tablename__ = "user_account"  # type: ignore[assignment]
    # Ids are never reused (see models.base.NEVER_REUSE_IDS): a token names its user by id.
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=255, unique=True, index=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=100)
    role: str = Field(default=Role.USER.value, max_length=16)
    is_active: bool = Field(default=True)
    # Registered while sign-up needed an admin's approval, and not approved yet (such an
    # account is inactive until then).
    pending_approval: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    # Goes up whenever the user's sign-in tokens must stop working (sign out, a new password,
    # an admin's "sign out everywhere"); a token carries the version it was issued with.
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    @property
    def is_admin(self) -> bool:
        """Whether the user has the admin role."""
        return self.role == Role.ADMIN
