"""Sign-in attempts, counted to slow down password guessing (``services/sign_in_limits.py``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import timestamp_column, utcnow

# An IPv6 address in text is at most 45 characters.
ADDRESS_MAX_LENGTH = 64


class LoginAttempt(SQLModel, table=True):
    """A sign-in that failed, or is still being checked. Kept for one counting window.

    In the database, not in a worker's memory, so that every worker counts the same
    attempts.
    """

    __tablename__ = "login_attempt"  # type: ignore[assignment]
    __table_args__ = (
        sa.Index("ix_login_attempt_email_created", "email", "created_at"),
        sa.Index("ix_login_attempt_address_created", "address", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The email as typed, normalized (an account or not: unknown emails count alike).
    email: str = Field(max_length=255)
    # The client's IP address ("" when unknown).
    address: str = Field(max_length=ADDRESS_MAX_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))
