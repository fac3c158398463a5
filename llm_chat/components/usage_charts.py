"""Usage as charts, figures and a table: shared by the usage page and the settings page."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

from typing import Any

import reflex as rx

from llm_chat.state.locale import t
from llm_chat.state.usage_items import UsageItem

# A state var (pyright sees the value's type), or a var made from one.
Rows = rx.Var[list[UsageItem]] | list[UsageItem]
Total = rx.Var[UsageItem | None] | UsageItem | None
Number = rx.Var[int] | rx.Var[float] | int | float


def grouped(number: Number) -> rx.Var[str]:
    """A number with thousands separators (as the page's JavaScript formats it)."""
    return rx.Var(f"Number({rx.Var.create(number)}).toLocaleString('en-US')").to(str)


def _data(rows: Rows) -> rx.Var[list[dict[str, Any]]]:
    return rx.Var.create(rows).to(list[dict[str, Any]])


# Axis numbers as 1.2K, 3.4M.
_COMPACT = "(v) => Intl.NumberFormat('en', {notation: 'compact'}).format(v)"


def _axes() -> list[rx.Component]:
    tick = {"fontSize": 12, "fill": rx.color("gray", 11)}
    axes: list[rx.Component] = [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=rx.color("gray", 5)),
        rx.recharts.x_axis(data_key="key", tick=tick, stroke=rx.color("gray", 7)),
        rx.recharts.y_axis(
            tick=tick, stroke=rx.color("gray", 7), width=48, tick_formatter=_COMPACT
        ),
        rx.recharts.graphing_tooltip(
            content_style={
                "background": rx.color("gray", 1),
                "border": f"1px solid {rx.color('gray', 6)}",
                "borderRadius": "6px",
            },
            label_style={"color": rx.color("gray", 12)},
            cursor={"fill": rx.color("gray", 3)},
        ),
    ]
    return axes


def tokens_chart(rows: Rows, height: int = 260) -> rx.Component:
    """Prompt and completion tokens stacked, per row."""
    return rx.recharts.bar_chart(
        *_axes(),
        rx.recharts.bar(
            data_key="prompt_tokens",
            stack_id="tokens",
            name=t("usage.prompt_tokens"),
            fill=rx.color("accent", 9),
            is_animation_active=False,
        ),
        rx.recharts.bar(
            data_key="completion_tokens",
            stack_id="tokens",
            name=t("usage.completion_tokens"),
            fill=rx.color("teal", 8),
            is_animation_active=False,
        ),
        rx.recharts.legend(icon_size=10, wrapper_style={"fontSize": 12}),
        data=_data(rows),
        width="100%",
        height=height,
    )


def cost_chart(rows: Rows, height: int = 260) -> rx.Component:
    """The cost per row."""
    return rx.recharts.bar_chart(
        *_axes(),
        rx.recharts.bar(
            data_key="cost",
            name=t("usage.cost"),
            fill=rx.color("amber", 9),
            is_animation_active=False,
        ),
        rx.recharts.legend(icon_size=10, wrapper_style={"fontSize": 12}),
        data=_data(rows),
        width="100%",
        height=height,
    )


def chart_card(title_key: str, chart: rx.Component) -> rx.Component:
    """A chart under its title."""
    return rx.card(
        rx.vstack(rx.text(t(title_key), weight="medium", size="2"), chart, width="100%"),
        width="100%",
    )


def figure(label_key: str, value: rx.Var[str] | str, figure_id: str) -> rx.Component:
    """One figure of a total, large, under its label."""
    return rx.card(
        rx.vstack(
            rx.text(t(label_key), size="1", color_scheme="gray"),
            rx.text(value, size="5", weight="bold", id=figure_id),
            spacing="1",
        ),
        flex="1",
        min_width="9em",
    )


def totals(total: Total) -> rx.Component:
    """The range's turns, tokens, cost and estimated turns."""
    shown = rx.Var.create(total)
    item = shown.to(UsageItem)
    return rx.cond(
        shown,
        rx.flex(
            figure("usage.turns", grouped(item.turns), "usage-total-turns"),
            figure("usage.total_tokens", grouped(item.total_tokens), "usage-total-tokens"),
            figure("usage.cost", item.cost_text, "usage-total-cost"),
            figure("usage.estimated", grouped(item.estimated_turns), "usage-total-estimated"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
    )


def _row(item: rx.Var[UsageItem]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(item.key),
        *[
            rx.table.cell(grouped(value), text_align="right")
            for value in (
                item.turns,
                item.prompt_tokens,
                item.completion_tokens,
                item.total_tokens,
            )
        ],
        rx.table.cell(item.cost_text, text_align="right"),
        rx.table.cell(grouped(item.estimated_turns), text_align="right"),
    )


def usage_table(rows: Rows, key_header: rx.Var[str], table_id: str) -> rx.Component:
    """A row per day, model or user."""
    headers = (
        "usage.turns",
        "usage.prompt_tokens",
        "usage.completion_tokens",
        "usage.total_tokens",
        "usage.cost",
        "usage.estimated",
    )
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(key_header),
                *[rx.table.column_header_cell(t(h), text_align="right") for h in headers],
            )
        ),
        rx.table.body(rx.foreach(rx.Var.create(rows).to(list[UsageItem]), _row)),
        variant="surface",
        size="1",
        width="100%",
        id=table_id,
    )
