"""What goes in and out of the limits and usage routes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from llm_chat.models import Role
from llm_chat.services.limit_admin import LimitSettings, UserLimitsView
from llm_chat.services.limits import (
    MAX_CONCURRENT_STREAMS,
    MAX_MESSAGES_PER_MINUTE,
    MAX_TOKENS_PER_DAY,
    Limits,
    RoleLimits,
    UserLimits,
)
from llm_chat.services.prices import PriceSettings
from llm_chat.services.usage_report import UsageReport, UsageRow


class LimitsOut(BaseModel):
    """Limits that apply (0: none)."""

    messages_per_minute: int
    tokens_per_day: int
    concurrent_streams: int

    @classmethod
    def of(cls, limits: Limits) -> LimitsOut:
        """The service's limits."""
        return cls(
            messages_per_minute=limits.messages_per_minute,
            tokens_per_day=limits.tokens_per_day,
            concurrent_streams=limits.concurrent_streams,
        )


class LimitSettingsOut(BaseModel):
    """Each role's default limits (0: none; ``concurrent_streams`` null:
    ``fallback_concurrent_streams``, the server's ``LLM_CHAT_MAX_STREAMS_PER_USER``)."""

    roles: dict[Role, RoleLimits]
    fallback_concurrent_streams: int

    @classmethod
    def of(cls, settings: LimitSettings) -> LimitSettingsOut:
        """The service's settings."""
        return cls(
            roles=settings.roles,
            fallback_concurrent_streams=settings.fallback_concurrent_streams,
        )


class UserLimitsIn(BaseModel):
    """A user's own limits; null follows their role, 0 lifts the limit."""

    messages_per_minute: int | None = Field(default=None, ge=0, le=MAX_MESSAGES_PER_MINUTE)
    tokens_per_day: int | None = Field(default=None, ge=0, le=MAX_TOKENS_PER_DAY)
    concurrent_streams: int | None = Field(default=None, ge=0, le=MAX_CONCURRENT_STREAMS)

    def limits(self) -> UserLimits:
        """As the service takes them."""
        return UserLimits(
            messages_per_minute=self.messages_per_minute,
            tokens_per_day=self.tokens_per_day,
            concurrent_streams=self.concurrent_streams,
        )


class UserLimitsOut(BaseModel):
    """A user's own limits (null: the role's) and the limits that apply to them."""

    user_id: int
    email: str
    role: Role
    own: UserLimitsIn
    effective: LimitsOut

    @classmethod
    def of(cls, view: UserLimitsView) -> UserLimitsOut:
        """The service's view."""
        return cls(
            user_id=view.user_id,
            email=view.email,
            role=view.role,
            own=UserLimitsIn(
                messages_per_minute=view.own.messages_per_minute,
                tokens_per_day=view.own.tokens_per_day,
                concurrent_streams=view.own.concurrent_streams,
            ),
            effective=LimitsOut.of(view.effective),
        )


class UsageRowOut(BaseModel):
    """The turns of one day, model or user."""

    key: str = Field(description="The day (YYYY-MM-DD), the model's name or the user's email")
    turns: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: Decimal = Field(
        description="At the model's prices when each turn started (none: 0), in `currency`"
    )
    estimated_turns: int = Field(description="Turns whose tokens were estimated by the app")

    @classmethod
    def of(cls, row: UsageRow) -> UsageRowOut:
        """The service's row."""
        return cls(
            key=row.key,
            turns=row.turns,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            total_tokens=row.total_tokens,
            cost=row.cost,
            estimated_turns=row.estimated_turns,
        )


class UsageOut(BaseModel):
    """Usage over whole UTC days, ``since`` to ``until`` included."""

    since: date
    until: date
    by_day: list[UsageRowOut]
    by_model: list[UsageRowOut]
    by_user: list[UsageRowOut] = Field(description="Empty in your own usage")
    total: UsageRowOut
    currency: str = Field(
        description="The ISO 4217 code of every cost (the currency of the models' prices)",
        examples=["USD"],
    )

    @classmethod
    def of(cls, report: UsageReport) -> UsageOut:
        """The service's report."""
        return cls(
            since=report.since,
            until=report.until,
            by_day=[UsageRowOut.of(r) for r in report.by_day],
            by_model=[UsageRowOut.of(r) for r in report.by_model],
            by_user=[UsageRowOut.of(r) for r in report.by_user],
            total=UsageRowOut.of(report.total),
            currency=report.currency,
        )


class PricesIn(BaseModel):
    """How the models' prices are read."""

    currency: str = Field(
        min_length=3,
        max_length=3,
        description="The ISO 4217 code of every model's prices (and so of every cost)",
        examples=["USD", "EUR", "CNY"],
    )


class PricesOut(PricesIn):
    """How the models' prices are read."""

    @classmethod
    def of(cls, settings: PriceSettings) -> PricesOut:
        """The service's settings."""
        return cls(currency=settings.currency)
