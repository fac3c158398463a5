"""What each chat turn used: one row per turn, from every door, saved or not."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import timestamp_column, utcnow

# A turn's cost in billionths of the model's price currency (prices are per million tokens
# with 6 decimals, so a token costs a whole number of thousandths of a nano-unit: rounding
# to a nano-unit loses at most half of one per turn). Integers sum exactly on every database.
NANOS_PER_UNIT = 1_000_000_000


class UsageRecord(SQLModel, table=True):
    """One turn's tokens and cost.

    Apart from the messages: a turn that is not saved (``/v1`` with ``store: false``) counts
    too, and deleting a conversation does not undo what it cost (its reply's id is cleared).
    Written with the turn's rows (an estimate), and again when the reply ends.
    """

    __tablename__ = "usage_record"  # type: ignore[assignment]
    __table_args__ = (
        # The limits' counts (a user's turns of the last minute, tokens of today) and their
        # own usage: a range of one user's rows. With the tokens in the index, today's sum
        # reads the index alone: for a user with 1,000 turns today (among 300,000 rows) the
        # whole check took 0.5 ms on SQLite and 2.0 ms on MariaDB (``python -m
        # bench.limit_check``), against 2.7 and 5.3 ms with (user_id, created_at) only.
        sa.Index(
            "ix_usage_record_user_created",
            "user_id",
            "created_at",
            "prompt_tokens",
            "completion_tokens",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    # The reply (None: not saved, or deleted since).
    message_id: int | None = Field(
        default=None, foreign_key="message.id", ondelete="SET NULL", index=True
    )
    model_id: int | None = Field(default=None, foreign_key="chat_model.id", ondelete="SET NULL")
    # The model as it was named then (it may be renamed or deleted later).
    model_name: str = Field(default="", max_length=100)
    prompt_tokens: int = Field(default=0)
    completion_tokens: int = Field(default=0)
    # True: counted by the app (the provider reported no usage), not by the provider.
    estimated: bool = Field(default=True)
    # In nano-units (see NANOS_PER_UNIT) at the model's prices when the turn started; None:
    # the model had no prices.
    cost_nanos: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))
