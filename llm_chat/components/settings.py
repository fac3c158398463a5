"""The settings page's parts: make, show once, list and revoke API keys."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx
from reflex.config import get_config

from llm_chat.components.layout import confirm_dialog, error_callout, shown_once_panel
from llm_chat.components.usage import my_usage_panel
from llm_chat.models.api_key import API_KEY_NAME_MAX_LENGTH
from llm_chat.state.locale import t, text_for
from llm_chat.state.settings import NEW_KEY_FIELD_ID, ApiKeyRow, SettingsState


def create_key_form() -> rx.Component:
    """Name a new key and create it."""
    return rx.form(
        rx.hstack(
            rx.input(
                name="name",
                placeholder=t("settings.key_name_placeholder"),
                aria_label=t("settings.key_name"),
                required=True,
                max_length=API_KEY_NAME_MAX_LENGTH,
                flex="1",
                id="api-key-name",
            ),
            rx.button(rx.icon("plus", size=16), t("settings.create_key"), type="submit"),
            width="100%",
        ),
        on_submit=SettingsState.create_key,
        reset_on_submit=True,
        width="100%",
    )


def new_key_panel() -> rx.Component:
    """The new key, once, in a read-only field with a copy button."""
    return shown_once_panel(
        rx.text(t("settings.new_key_title"), weight="bold"),
        "settings.new_key_warning",
        field_id=NEW_KEY_FIELD_ID,
        visible=SettingsState.show_new_key,
        on_done=SettingsState.dismiss_new_key,
        copy=True,
    )


def _key_row(key: rx.Var[ApiKeyRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(key.name),
        rx.table.cell(rx.code(key.prefix + "…")),
        rx.table.cell(key.created),
        rx.table.cell(rx.cond(key.last_used != "", key.last_used, t("settings.never_used"))),
        rx.table.cell(
            rx.button(
                t("settings.revoke"),
                size="1",
                variant="ghost",
                color_scheme="red",
                on_click=SettingsState.open_revoke(key.id, key.name),
            )
        ),
    )


def keys_table() -> rx.Component:
    """The keys that still work."""
    headers = ["settings.key_name", "settings.prefix", "settings.created", "settings.last_used"]
    return rx.cond(
        SettingsState.api_keys.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(t(h)) for h in headers],
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(SettingsState.api_keys, _key_row)),
            width="100%",
        ),
        rx.text(t("settings.no_keys"), color_scheme="gray"),
    )


def revoke_dialog() -> rx.Component:
    """Confirms before a key stops working."""
    return confirm_dialog(
        rx.code(SettingsState.revoke_name),
        rx.alert_dialog.description(t("settings.revoke_warning"), margin_top="0.5em"),
        title_key="settings.revoke_title",
        action_key="settings.revoke",
        on_confirm=SettingsState.confirm_revoke(SettingsState.revoke_id),
        is_open=SettingsState.revoke_id != 0,
        on_close=SettingsState.close_revoke,
    )


def api_docs_url() -> str:
    """Where the API's docs are: on the back end's address (``make run`` serves the pages
    on :3000 and the back end on :8000; a production build serves both on one port)."""
    return get_config().api_url.rstrip("/") + "/api/docs"


def api_keys_panel() -> rx.Component:
    """Everything about API keys."""
    return rx.vstack(
        rx.heading(t("settings.api_keys"), size="5"),
        rx.text(t("settings.api_keys_hint"), color_scheme="gray", size="2"),
        rx.link(
            t("settings.api_docs"),
            href=api_docs_url(),
            is_external=True,
            size="2",
            id="api-docs-link",
        ),
        error_callout(SettingsState.error_key),
        rx.cond(
            SettingsState.notice_key != "",
            rx.callout(
                text_for(SettingsState.notice_key),
                icon="check",
                color_scheme="green",
            ),
        ),
        create_key_form(),
        new_key_panel(),
        keys_table(),
        revoke_dialog(),
        my_usage_panel(),
        spacing="4",
        width="100%",
    )
