"""The admin page: the providers and models tab (tables, forms, dialogs) and the audit tab."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

from typing import Any

import reflex as rx

from llm_chat.components.admin_check import check_dialog
from llm_chat.components.admin_forms import (
    delete_dialogs,
    edit_model_dialog,
    edit_provider_dialog,
    kind_label,
    model_form,
    priced,
    provider_form,
)
from llm_chat.components.admin_links import admin_links
from llm_chat.components.admin_signup import signup_panel
from llm_chat.components.admin_users import users_panel
from llm_chat.components.audit import audit_panel
from llm_chat.components.layout import error_callout
from llm_chat.services.catalog import ModelInfo, ProviderInfo
from llm_chat.state.admin import AdminState
from llm_chat.state.admin_users import UserAdminState
from llm_chat.state.audit import AuditState
from llm_chat.state.locale import t, text_for
from llm_chat.state.signup_admin import SignupAdminState


def _icon_button(icon: str, label_key: str, **props: Any) -> rx.Component:
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=15), size="1", variant="ghost", aria_label=t(label_key), **props
        ),
        content=t(label_key),
    )


def _muted(text: rx.Var | str) -> rx.Component:
    return rx.text(text, size="1", color_scheme="gray")


def _provider_row(p: rx.Var[ProviderInfo]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(p.name, weight="medium")),
        rx.table.cell(kind_label(p.kind, p.kind_label)),
        rx.table.cell(
            rx.vstack(
                rx.code(p.base_url, size="1"),
                rx.cond(p.base_url_from_kind, _muted(t("admin.url_from_kind"))),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.cond(
                    p.has_api_key,
                    rx.badge(t("admin.api_key_set"), color_scheme="grass", variant="soft"),
                    rx.badge(t("admin.api_key_missing"), color_scheme="gray", variant="soft"),
                ),
                rx.cond(p.header_names.length() > 0, _muted(p.header_names.join(", "))),
                spacing="1",
            )
        ),
        rx.table.cell(p.model_count),
        rx.table.cell(
            rx.switch(
                checked=p.enabled, on_change=lambda on: AdminState.set_provider_enabled(p.id, on)
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    rx.icon("plug_zap", size=14),
                    t("admin.test_connection"),
                    size="1",
                    variant="soft",
                    loading=AdminState.check_running & (AdminState.check_provider_id == p.id),
                    on_click=AdminState.test_connection(p.id),
                    class_name="test-connection",
                ),
                _icon_button("pencil", "admin.edit", on_click=AdminState.open_edit_provider(p.id)),
                _icon_button(
                    "trash_2",
                    "admin.delete",
                    color_scheme="red",
                    on_click=AdminState.ask_delete_provider(p.id),
                ),
                spacing="3",
                align="center",
            )
        ),
        align="center",
    )


def _price(m: rx.Var[ModelInfo]) -> rx.Component:
    def one(price: rx.Var) -> rx.Var:
        return rx.cond(price.is_none(), "–", price.to_string())

    return rx.text(one(m.price_input), " / ", one(m.price_output), size="2", white_space="nowrap")


def _roles(m: rx.Var[ModelInfo]) -> rx.Component:
    return rx.cond(
        m.allowed_roles.length() == 0,
        _muted(t("admin.everyone")),
        rx.hstack(
            rx.foreach(
                m.allowed_roles,
                lambda role: rx.badge(text_for("admin.role_" + role), variant="outline"),
            ),
            spacing="1",
        ),
    )


def _model_row(m: rx.Var[ModelInfo]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(m.display_name, weight="medium"),
                rx.cond(
                    m.is_reasoning,
                    rx.badge(t("admin.reasoning_badge"), color_scheme="purple", variant="soft"),
                ),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(m.provider),
        rx.table.cell(rx.code(m.model_name, size="1")),
        rx.table.cell(_price(m)),
        rx.table.cell(_roles(m)),
        rx.table.cell(
            rx.switch(
                checked=m.enabled, on_change=lambda on: AdminState.set_model_enabled(m.id, on)
            )
        ),
        rx.table.cell(
            rx.cond(
                m.is_default,
                rx.badge(t("admin.default")),
                rx.button(
                    t("admin.make_default"),
                    size="1",
                    variant="ghost",
                    white_space="nowrap",
                    on_click=AdminState.make_default(m.id),
                ),
            )
        ),
        rx.table.cell(
            rx.hstack(
                _icon_button("pencil", "admin.edit", on_click=AdminState.open_edit_model(m.id)),
                _icon_button(
                    "trash_2",
                    "admin.delete",
                    color_scheme="red",
                    on_click=AdminState.ask_delete_model(m.id),
                ),
                spacing="3",
            )
        ),
        align="center",
    )


def _table(headers: list[str | rx.Var[str]], rows: rx.Component, table_id: str) -> rx.Component:
    """A table under its headers (translation keys, or text vars)."""

    def header(h: str | rx.Var[str]) -> rx.Component:
        return rx.table.column_header_cell(h if not isinstance(h, str) else t(h) if h else "")

    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[header(h) for h in headers])),
            rx.table.body(rows),
            width="100%",
            id=table_id,
        ),
        width="100%",
        overflow_x="auto",
    )


def catalog_panel() -> rx.Component:
    """Both lists, both forms and their dialogs."""
    return rx.vstack(
        admin_links("/admin"),
        error_callout(AdminState.error_key),
        rx.cond(
            AdminState.notice_key != "",
            rx.callout(
                text_for(AdminState.notice_key),
                icon="check",
                color_scheme="green",
                id="notice-callout",
            ),
        ),
        rx.heading(t("admin.providers"), size="5"),
        rx.cond(
            AdminState.providers.length() > 0,
            _table(
                [
                    "admin.name",
                    "admin.kind",
                    "admin.base_url",
                    "admin.api_key",
                    "admin.models",
                    "admin.enabled",
                    "admin.actions",
                ],
                rx.foreach(AdminState.providers, _provider_row),
                "providers-table",
            ),
            rx.text(t("admin.no_providers"), color_scheme="gray"),
        ),
        rx.heading(t("admin.models"), size="5"),
        rx.cond(
            AdminState.models.length() > 0,
            _table(
                [
                    "admin.display_name",
                    "admin.provider",
                    "admin.model_id",
                    priced("admin.price"),
                    "admin.roles_short",
                    "admin.enabled",
                    "admin.default",
                    "",
                ],
                rx.foreach(AdminState.models, _model_row),
                "models-table",
            ),
            rx.text(t("admin.no_models"), color_scheme="gray"),
        ),
        rx.grid(
            rx.card(provider_form()),
            rx.card(model_form()),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        edit_provider_dialog(),
        edit_model_dialog(),
        delete_dialogs(),
        check_dialog(),
        spacing="4",
        width="100%",
    )


def admin_panel() -> rx.Component:
    """The tabs of the admin page."""
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger(t("admin.tab_catalog"), value="catalog", id="tab-catalog"),
            rx.tabs.trigger(t("admin.tab_users"), value="users", id="tab-users"),
            rx.tabs.trigger(t("admin.tab_signup"), value="signup", id="tab-signup"),
            rx.tabs.trigger(t("admin.audit"), value="audit", id="tab-audit"),
        ),
        rx.tabs.content(catalog_panel(), value="catalog", padding_top="1.5em"),
        rx.tabs.content(users_panel(), value="users", padding_top="1.5em"),
        rx.tabs.content(signup_panel(), value="signup", padding_top="1.5em"),
        rx.tabs.content(audit_panel(), value="audit", padding_top="1.5em"),
        default_value="catalog",
        on_change=[AuditState.open_tab, UserAdminState.open_tab, SignupAdminState.open_tab],
        width="100%",
    )
