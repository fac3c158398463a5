"""Per-user limits: messages per minute, tokens per day, replies streaming at once.

Each role has defaults (an admin's setting, :func:`role_setting`); a user may have their
own (``user_limit``), field by field. 0 means no limit. Streams default to
``LLM_CHAT_MAX_STREAMS_PER_USER``.

The counts come from ``usage_record`` (one row per turn of any door, saved or not), so
every worker sees the same: the user's rows of the last minute, and the tokens of their
rows since midnight UTC, both a range of the index on ``(user_id, created_at)``. A turn
is counted once its rows are written (right after the provider answers it), so turns
started at the same moment may pass together: at most as many as the user may stream at
once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pydantic
import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.config import get_settings
from llm_chat.db import short_transaction
from llm_chat.errors import RateLimitedError, ValidationError
from llm_chat.models import UsageRecord, UserLimit
from llm_chat.models.base import utcnow
from llm_chat.services import app_settings
from llm_chat.services.app_settings import Setting

MAX_MESSAGES_PER_MINUTE = 1000
MAX_TOKENS_PER_DAY = 2_000_000_000
MAX_CONCURRENT_STREAMS = 1000
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


class RoleLimits(pydantic.BaseModel):
    """The limits of a role's users (0: none)."""

    model_config = pydantic.ConfigDict(frozen=True)

    messages_per_minute: int = pydantic.Field(default=0, ge=0, le=MAX_MESSAGES_PER_MINUTE)
    tokens_per_day: int = pydantic.Field(default=0, ge=0, le=MAX_TOKENS_PER_DAY)
    # None: LLM_CHAT_MAX_STREAMS_PER_USER.
    concurrent_streams: int | None = pydantic.Field(default=None, ge=0, le=MAX_CONCURRENT_STREAMS)


@dataclass(frozen=True)
class UserLimits:
    """A user's own limits; None follows the role."""

    messages_per_minute: int | None = None
    tokens_per_day: int | None = None
    concurrent_streams: int | None = None

    def check(self) -> UserLimits:
        """Itself, if every field is in range.

        Raises:
            ValidationError: ``admin.invalid_limit``.
        """
        bounds = (
            (self.messages_per_minute, MAX_MESSAGES_PER_MINUTE),
            (self.tokens_per_day, MAX_TOKENS_PER_DAY),
            (self.concurrent_streams, MAX_CONCURRENT_STREAMS),
        )
        if any(value is not None and not 0 <= value <= top for value, top in bounds):
            raise ValidationError("admin.invalid_limit")
        return self


@dataclass(frozen=True)
class Limits:
    """The limits that apply to a user now (0: none)."""

    messages_per_minute: int
    tokens_per_day: int
    concurrent_streams: int


def role_setting(role: str) -> Setting[RoleLimits]:
    """Where the defaults of ``role`` are kept."""
    return Setting(key=f"limits.role.{role}", model=RoleLimits, default=RoleLimits())


_OVERRIDES = UserLimit.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
_USAGE = UsageRecord.__table__  # type: ignore[attr-defined]
# Read on every turn: plain statements built once (values at execution).
_OVERRIDE = sa.select(
    _OVERRIDES.c.messages_per_minute,
    _OVERRIDES.c.tokens_per_day,
    _OVERRIDES.c.concurrent_streams,
).where(_OVERRIDES.c.user_id == sa.bindparam("user"))
# The newest turns of the window, at most as many as allowed.
_RECENT = (
    sa.select(_USAGE.c.created_at)
    .where(_USAGE.c.user_id == sa.bindparam("user"), _USAGE.c.created_at >= sa.bindparam("since"))
    .order_by(_USAGE.c.created_at.desc())
    .limit(sa.bindparam("most"))
)
_TOKENS = sa.select(
    sa.func.coalesce(sa.func.sum(_USAGE.c.prompt_tokens + _USAGE.c.completion_tokens), 0)
).where(_USAGE.c.user_id == sa.bindparam("user"), _USAGE.c.created_at >= sa.bindparam("since"))


def user_limits(session: Session, *, user_id: int) -> UserLimits:
    """The user's own limits (all None if they have none)."""
    row = session.connection().execute(_OVERRIDE, {"user": user_id}).first()
    return UserLimits(*row) if row is not None else UserLimits()


def _pick(own: int | None, role: int | None, fallback: int) -> int:
    if own is not None:
        return own
    return role if role is not None else fallback


def limits_for(session: Session, *, user_id: int, role: str) -> Limits:
    """The limits that apply to the user now: their own, else their role's."""
    defaults = app_settings.read(session, role_setting(role))
    own = user_limits(session, user_id=user_id)
    return Limits(
        messages_per_minute=_pick(own.messages_per_minute, defaults.messages_per_minute, 0),
        tokens_per_day=_pick(own.tokens_per_day, defaults.tokens_per_day, 0),
        concurrent_streams=_pick(
            own.concurrent_streams,
            defaults.concurrent_streams,
            get_settings().max_streams_per_user,
        ),
    )


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC before ``now`` (naive UTC, as stored)."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def check_turn(session: Session, *, user_id: int, role: str, now: datetime | None = None) -> Limits:
    """Refuse a new turn over the user's limits; otherwise the limits that apply.

    Raises:
        RateLimitedError: ``limits.messages_per_minute`` (``retry_after``: until the oldest
            turn of the last minute is a minute old) or ``limits.tokens_per_day`` (until
            midnight UTC).
    """
    limits = limits_for(session, user_id=user_id, role=role)
    now = now or utcnow()
    connection = session.connection()
    if limits.messages_per_minute:
        recent = connection.execute(
            _RECENT, {"user": user_id, "since": now - MINUTE, "most": limits.messages_per_minute}
        ).scalars()
        times = list(recent)
        if len(times) >= limits.messages_per_minute:
            raise RateLimitedError(
                _seconds(times[-1] + MINUTE - now), code="limits.messages_per_minute"
            )
    if limits.tokens_per_day:
        midnight = start_of_day(now)
        used = connection.execute(_TOKENS, {"user": user_id, "since": midnight}).scalar() or 0
        if used >= limits.tokens_per_day:
            raise RateLimitedError(_seconds(midnight + DAY - now), code="limits.tokens_per_day")
    return limits


@short_transaction
def limits_for_user(session: Session, *, user_id: int, role: str) -> Limits:
    """The limits that apply to the user now (their own page shows them)."""
    return limits_for(session, user_id=user_id, role=role)
