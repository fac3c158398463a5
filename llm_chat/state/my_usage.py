"""The user's own usage, on the settings page: the last 30 days, and today against limits."""

from __future__ import annotations

import reflex as rx

from llm_chat.services import usage_report
from llm_chat.services.limits import limits_for_user
from llm_chat.state.auth import AuthState
from llm_chat.state.usage_items import UsageItem, default_range


class MyUsageState(AuthState):
    """What the signed-in user used lately, and their limits."""

    # The last 30 days: per day (oldest first), per model, and in all.
    by_day: list[UsageItem] = []  # noqa: RUF012
    by_model: list[UsageItem] = []  # noqa: RUF012
    total: UsageItem | None = None
    # Tokens used today (UTC) and the limits that apply (0: none).
    tokens_today: int = 0
    messages_per_minute: int = 0
    tokens_per_day: int = 0
    concurrent_streams: int = 0

    @rx.event
    async def load(self) -> None:
        """Read the user's usage and limits (the settings page's ``on_load``)."""
        user = await self.verified_user()
        if user is None:
            return
        since, until = default_range()
        report = await usage_report.own_usage(user_id=user.id, since=since, until=until)
        self.by_day = [UsageItem.of(r) for r in report.by_day]
        self.by_model = [UsageItem.of(r) for r in report.by_model]
        self.total = UsageItem.of(report.total)
        self.tokens_today = report.by_day[-1].total_tokens if report.by_day else 0
        limits = await limits_for_user(user_id=user.id, role=user.role.value)
        self.messages_per_minute = limits.messages_per_minute
        self.tokens_per_day = limits.tokens_per_day
        self.concurrent_streams = limits.concurrent_streams
