"""The audit log tab: filters, the entries, older and newer pages."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.admin_forms import labelled
from llm_chat.components.layout import error_callout
from llm_chat.models import AuditTarget
from llm_chat.state.audit import AuditRow, AuditState
from llm_chat.state.locale import t, text_for


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            labelled(
                "admin.audit_actor",
                rx.input(name="actor", type="email", max_length=255, width="100%"),
                flex="2",
                min_width="12rem",
            ),
            labelled(
                "admin.audit_type",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(
                        rx.select.item(t("admin.audit_all"), value="all"),
                        *[
                            rx.select.item(t(f"admin.target_{target.value}"), value=target.value)
                            for target in AuditTarget
                        ],
                    ),
                    name="target_type",
                    default_value="all",
                ),
                flex="1",
                min_width="9rem",
            ),
            labelled(
                "admin.audit_from",
                rx.input(name="day_from", type="date", width="100%"),
                flex="1",
                min_width="9rem",
            ),
            labelled(
                "admin.audit_to",
                rx.input(name="day_to", type="date", width="100%"),
                flex="1",
                min_width="9rem",
            ),
            rx.button(
                rx.icon("filter", size=16), t("admin.audit_apply"), type="submit", id="audit-filter"
            ),
            gap="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=AuditState.apply_filter,
        width="100%",
    )


def _row(row: rx.Var[AuditRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, white_space="nowrap", size="2")),
        rx.table.cell(rx.text(row.who, size="2")),
        rx.table.cell(rx.badge(text_for(row.action_key), variant="soft")),
        rx.table.cell(
            rx.vstack(
                rx.text(text_for(row.target_key), size="1", color_scheme="gray"),
                rx.text(row.target, size="2"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.foreach(
                    row.changes,
                    lambda line: rx.code(line, size="1", white_space="pre-wrap", variant="ghost"),
                ),
                spacing="1",
            ),
        ),
        class_name="audit-row",
    )


def audit_panel() -> rx.Component:
    """Everything of the audit log tab."""
    headers = [
        "admin.audit_when",
        "admin.audit_who",
        "admin.audit_action",
        "admin.audit_target",
        "admin.audit_changes",
    ]
    return rx.vstack(
        _filters(),
        error_callout(AuditState.error_key),
        rx.cond(
            AuditState.entries.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(t(h)) for h in headers])
                ),
                rx.table.body(rx.foreach(AuditState.entries, _row)),
                width="100%",
                size="1",
            ),
            rx.text(t("admin.audit_empty"), color_scheme="gray", id="audit-empty"),
        ),
        rx.hstack(
            rx.text(t("admin.audit_total"), " ", AuditState.total, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                rx.icon("chevron_left", size=16),
                t("admin.audit_newer"),
                variant="soft",
                disabled=~AuditState.has_newer,
                on_click=AuditState.newer,
            ),
            rx.button(
                t("admin.audit_older"),
                rx.icon("chevron_right", size=16),
                variant="soft",
                disabled=~AuditState.has_older,
                on_click=AuditState.older,
            ),
            width="100%",
            align="center",
        ),
        spacing="4",
        width="100%",
    )
