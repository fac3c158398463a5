"""The user's own usage, at the end of the settings page."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.usage_charts import (
    Number,
    chart_card,
    grouped,
    tokens_chart,
    totals,
    usage_table,
)
from llm_chat.state.locale import t, text_for
from llm_chat.state.operate import MyUsage, OperateState

# The user's usage, typed (rendered only once set).
MINE = rx.Var.create(OperateState.mine).to(MyUsage)


def _limit(label_key: str, value: Number, used: rx.Var[str] | None = None) -> rx.Component:
    limit = rx.Var.create(value).to(int)
    shown = rx.cond(limit > 0, grouped(limit), text_for("usage.no_limit")).to(str)
    return rx.hstack(
        rx.text(t(label_key), size="2", color_scheme="gray"),
        rx.text(
            rx.Var.create(f"{used} / {shown}") if used is not None else shown,
            size="2",
            weight="medium",
        ),
        spacing="2",
    )


def my_limits() -> rx.Component:
    """The limits that apply to the user, today's tokens against theirs."""
    return rx.flex(
        _limit("usage.limit_messages_per_minute", MINE.messages_per_minute),
        _limit(
            "usage.limit_tokens_per_day",
            MINE.tokens_per_day,
            used=grouped(MINE.tokens_today),
        ),
        _limit("usage.limit_concurrent_streams", MINE.concurrent_streams),
        spacing="5",
        wrap="wrap",
        id="my-limits",
    )


def my_usage_panel() -> rx.Component:
    """The last 30 days: totals, tokens per day, a row per model; and the user's limits
    (once loaded)."""
    return rx.cond(OperateState.mine, _panel())


def _panel() -> rx.Component:
    return rx.vstack(
        rx.heading(t("usage.mine"), size="5", margin_top="1em"),
        rx.text(t("usage.mine_hint"), color_scheme="gray", size="2"),
        my_limits(),
        totals(MINE.total, MINE.currency),
        chart_card("usage.tokens_chart", tokens_chart(MINE.by_day, height=200)),
        rx.cond(
            MINE.by_model.length() > 0,
            usage_table(MINE.by_model, text_for("usage.model"), "my-usage-table", MINE.currency),
        ),
        spacing="4",
        width="100%",
        id="my-usage",
    )
