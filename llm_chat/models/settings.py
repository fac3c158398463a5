"""Settings an admin changes at run time, and per-user limits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import timestamp_column, utcnow

SETTING_KEY_LENGTH = 64


class AppSetting(SQLModel, table=True):
    """One setting, by key; its value is JSON (see ``services/app_settings.py``)."""

    __tablename__ = "app_setting"  # type: ignore[assignment]

    key: str = Field(primary_key=True, max_length=SETTING_KEY_LENGTH)
    value: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    # The admin who set it last (None: the shell, or a deleted account).
    updated_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class UserLimit(SQLModel, table=True):
    """A user's own limits, over their role's; a None field follows the role (0: none)."""

    __tablename__ = "user_limit"  # type: ignore[assignment]

    user_id: int = Field(primary_key=True, foreign_key="user_account.id", ondelete="CASCADE")
    messages_per_minute: int | None = Field(default=None)
    tokens_per_day: int | None = Field(default=None)
    concurrent_streams: int | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
