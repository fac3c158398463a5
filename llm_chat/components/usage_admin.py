"""The usage page's parts: the range, the grouping, the charts, the table, the export."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.admin_links import admin_links
from llm_chat.components.layout import error_callout
from llm_chat.components.usage_charts import (
    chart_card,
    cost_chart,
    cost_label,
    tokens_chart,
    totals,
    usage_table,
)
from llm_chat.state.locale import t, text_for
from llm_chat.state.operate import USAGE_ROUTE, OperateState, UsagePage

# The page, typed (rendered only once set).
PAGE = rx.Var.create(OperateState.usage).to(UsagePage)


GROUPINGS = (("day", "usage.per_day"), ("model", "usage.per_model"), ("user", "usage.per_user"))


def range_form() -> rx.Component:
    """From and to (UTC days), and show."""
    return rx.form(
        rx.hstack(
            rx.text(t("usage.from"), size="2"),
            rx.input(
                type="date",
                name="since",
                default_value=PAGE.since,
                id="usage-since",
                key=PAGE.since,
            ),
            rx.text(t("usage.to"), size="2"),
            rx.input(
                type="date",
                name="until",
                default_value=PAGE.until,
                id="usage-until",
                key=PAGE.until,
            ),
            rx.button(t("usage.show"), type="submit", id="usage-show"),
            align="center",
            wrap="wrap",
        ),
        on_submit=OperateState.show_range,
        width="auto",
    )


def toolbar() -> rx.Component:
    """The range, the grouping and the export, on one line as space allows."""
    return rx.flex(
        range_form(),
        rx.hstack(
            rx.segmented_control.root(
                *[rx.segmented_control.item(t(k), value=v) for v, k in GROUPINGS],
                value=PAGE.grouping,
                on_change=OperateState.pick_grouping,
                id="usage-grouping",
            ),
            rx.button(
                rx.icon("download", size=16),
                t("usage.export_csv"),
                variant="soft",
                on_click=OperateState.download_csv,
                id="usage-export",
            ),
            align="center",
        ),
        justify="between",
        align="center",
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _key_header() -> rx.Var[str]:
    return rx.match(
        PAGE.grouping,
        ("model", text_for("usage.model")),
        ("user", text_for("usage.user")),
        text_for("usage.day"),
    ).to(str)


def usage_panel() -> rx.Component:
    """Everything on the usage page (once it has loaded)."""
    return rx.cond(OperateState.usage, _panel(), rx.spinner())


def _panel() -> rx.Component:
    return rx.vstack(
        admin_links(USAGE_ROUTE),
        rx.text(t("usage.hint"), size="2", color_scheme="gray"),
        toolbar(),
        error_callout(PAGE.error_key),
        totals(PAGE.total, PAGE.currency),
        rx.grid(
            chart_card("usage.tokens_chart", tokens_chart(PAGE.rows)),
            chart_card(
                cost_label(PAGE.currency, "usage.cost_chart"), cost_chart(PAGE.rows, PAGE.currency)
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        usage_table(PAGE.rows, _key_header(), "usage-table", PAGE.currency),
        spacing="4",
        width="100%",
    )
