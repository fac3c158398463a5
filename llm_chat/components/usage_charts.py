"""Usage as charts, figures and a table: shared by the usage page and the settings page."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

from typing import Any

import reflex as rx

from llm_chat.state.locale import t, text_for
from llm_chat.state.usage_items import UsageItem

# A state var (pyright sees the value's type), or a var made from one.
Rows = rx.Var[list[UsageItem]] | list[UsageItem]
Total = rx.Var[UsageItem | None] | UsageItem | None
Number = rx.Var[int] | rx.Var[float] | int | float
# An ISO 4217 code, as a state var.
Currency = rx.Var[str] | str


def cost_label(currency: Currency, key: str = "usage.cost") -> rx.Var[str]:
    """A cost's label naming its currency: "Cost (USD)"."""
    return text_for(key).replace("{currency}", rx.Var.create(currency).to(str))


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


def cost_chart(rows: Rows, currency: Currency, height: int = 260) -> rx.Component:
    """The cost per row (its legend and tooltips name the currency)."""
    return rx.recharts.bar_chart(
        *_axes(),
        rx.recharts.bar(
            data_key="cost",
            name=cost_label(currency),
            fill=rx.color("amber", 9),
            is_animation_active=False,
        ),
        rx.recharts.legend(icon_size=10, wrapper_style={"fontSize": 12}),
        data=_data(rows),
        width="100%",
        height=height,
    )


def chart_card(title: str | rx.Var[str], chart: rx.Component) -> rx.Component:
    """A chart under its title (a translation key, or a text var)."""
    return rx.card(
        rx.vstack(
            rx.text(t(title) if isinstance(title, str) else title, weight="medium", size="2"),
            chart,
            width="100%",
        ),
        width="100%",
    )


def figure(label: str | rx.Var[str], value: rx.Var[str] | str, figure_id: str) -> rx.Component:
    """One figure of a total, large, under its label (a translation key, or a text var)."""
    return rx.card(
        rx.vstack(
            rx.text(t(label) if isinstance(label, str) else label, size="1", color_scheme="gray"),
            rx.text(value, size="5", weight="bold", id=figure_id),
            spacing="1",
        ),
        flex="1",
        min_width="9em",
    )


def totals(total: Total, currency: Currency) -> rx.Component:
    """The range's turns, tokens, cost (in ``currency``) and estimated turns."""
    shown = rx.Var.create(total)
    item = shown.to(UsageItem)
    return rx.cond(
        shown,
        rx.flex(
            figure("usage.turns", grouped(item.turns), "usage-total-turns"),
            figure("usage.total_tokens", grouped(item.total_tokens), "usage-total-tokens"),
            figure(cost_label(currency), item.cost_text, "usage-total-cost"),
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


def usage_table(
    rows: Rows, key_header: rx.Var[str], table_id: str, currency: Currency
) -> rx.Component:
    """A row per day, model or user (costs in ``currency``)."""
    headers = (
        t("usage.turns"),
        t("usage.prompt_tokens"),
        t("usage.completion_tokens"),
        t("usage.total_tokens"),
        cost_label(currency),
        t("usage.estimated"),
    )
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(key_header),
                *[rx.table.column_header_cell(h, text_align="right") for h in headers],
            )
        ),
        rx.table.body(rx.foreach(rx.Var.create(rows).to(list[UsageItem]), _row)),
        variant="surface",
        size="1",
        width="100%",
        id=table_id,
    )
