"""Personal API keys: a user's bearer tokens for the REST and OpenAI-compatible API."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from llm_chat.models.base import (
    NEVER_REUSE_IDS,
    optional_timestamp_column,
    timestamp_column,
    utcnow,
)

API_KEY_NAME_MAX_LENGTH = 100


class ApiKey(SQLModel, table=True):
    """A key a user made. Only its SHA-256 is stored; ``prefix`` identifies it on screen."""

    __tablename__ = "api_key"  # type: ignore[assignment]
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=API_KEY_NAME_MAX_LENGTH)
    # The key's first characters ("llmc_Ab12Cd"), enough to tell keys apart, useless to guess.
    prefix: str = Field(max_length=16)
    # Hex SHA-256 of the whole key.
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    last_used_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    revoked_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
