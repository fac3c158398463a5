"""The admin page's forms and tables."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import error_callout
from llm_chat.providers.presets import PRESETS
from llm_chat.services.catalog import ModelInfo, ProviderInfo
from llm_chat.state.admin import AdminState
from llm_chat.state.locale import t, text_for


def _labelled(label_key: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="2", weight="medium"), control, spacing="1", width="100%"
    )


def provider_form() -> rx.Component:
    """Add a provider: kind (fills in the usual URL), name, URL, key."""
    return rx.form(
        rx.vstack(
            rx.heading(t("admin.add_provider"), size="3"),
            rx.hstack(
                _labelled(
                    "admin.kind",
                    rx.select.root(
                        rx.select.trigger(width="100%", id="provider-kind"),
                        rx.select.content(
                            *[rx.select.item(p.label, value=p.kind.value) for p in PRESETS.values()]
                        ),
                        value=AdminState.new_provider_kind,
                        on_change=AdminState.pick_kind,
                    ),
                ),
                _labelled(
                    "admin.name",
                    rx.input(
                        name="name", required=True, max_length=100, width="100%", id="provider-name"
                    ),
                ),
                width="100%",
            ),
            _labelled(
                "admin.base_url",
                rx.input(
                    name="base_url",
                    placeholder=AdminState.suggested_base_url,
                    width="100%",
                    id="provider-base-url",
                ),
            ),
            _labelled(
                "admin.api_key",
                rx.input(
                    name="api_key",
                    type="password",
                    auto_complete="off",
                    width="100%",
                    id="provider-api-key",
                ),
            ),
            rx.text(t("admin.api_key_hint"), size="1", color_scheme="gray"),
            rx.button(t("admin.add_provider"), type="submit", id="add-provider"),
            spacing="3",
            width="100%",
        ),
        on_submit=AdminState.add_provider,
        reset_on_submit=True,
        width="100%",
    )


def model_form() -> rx.Component:
    """Add a model to a provider."""
    return rx.form(
        rx.vstack(
            rx.heading(t("admin.add_model"), size="3"),
            _labelled(
                "admin.provider",
                rx.el.select(
                    rx.foreach(
                        AdminState.providers,
                        lambda p: rx.el.option(p.name, value=p.id.to_string()),
                    ),
                    name="provider_id",
                    id="model-provider",
                    style={"width": "100%", "padding": "0.4em"},
                ),
            ),
            rx.hstack(
                _labelled(
                    "admin.display_name",
                    rx.input(
                        name="display_name",
                        required=True,
                        max_length=100,
                        width="100%",
                        id="model-display-name",
                    ),
                ),
                _labelled(
                    "admin.model_id",
                    rx.input(
                        name="model_name",
                        required=True,
                        max_length=200,
                        width="100%",
                        id="model-name",
                    ),
                ),
                width="100%",
            ),
            rx.hstack(
                _labelled("admin.temperature", rx.input(name="temperature", width="100%")),
                _labelled("admin.max_tokens", rx.input(name="max_tokens", width="100%")),
                _labelled(
                    "admin.context_window",
                    rx.input(name="context_window", width="100%", id="model-context-window"),
                ),
                width="100%",
            ),
            _labelled("admin.system_prompt", rx.text_area(name="system_prompt", width="100%")),
            rx.button(t("admin.add_model"), type="submit", id="add-model"),
            spacing="3",
            width="100%",
        ),
        on_submit=AdminState.add_model,
        reset_on_submit=True,
        width="100%",
    )


def _provider_row(p: rx.Var[ProviderInfo]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(p.name),
        rx.table.cell(p.kind),
        rx.table.cell(rx.code(p.base_url)),
        rx.table.cell(rx.cond(p.has_api_key, t("admin.api_key_set"), t("admin.api_key_missing"))),
        rx.table.cell(
            rx.switch(
                checked=p.enabled, on_change=lambda on: AdminState.set_provider_enabled(p.id, on)
            )
        ),
    )


def _model_row(m: rx.Var[ModelInfo]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(m.display_name),
        rx.table.cell(m.provider),
        rx.table.cell(rx.code(m.model_name)),
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
                    on_click=AdminState.make_default(m.id),
                ),
            )
        ),
    )


def _table(headers: list[str], rows: rx.Component) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(h)) for h in headers])),
        rx.table.body(rows),
        width="100%",
    )


def admin_panel() -> rx.Component:
    """Both lists and both forms."""
    return rx.vstack(
        error_callout(AdminState.error_key),
        rx.cond(
            AdminState.notice_key != "",
            rx.callout(
                text_for(AdminState.notice_key),
                icon="check",
                color_scheme="green",
            ),
        ),
        rx.heading(t("admin.providers"), size="5"),
        rx.cond(
            AdminState.providers.length() > 0,
            _table(
                ["admin.name", "admin.kind", "admin.base_url", "admin.api_key", "admin.enabled"],
                rx.foreach(AdminState.providers, _provider_row),
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
                    "admin.enabled",
                    "admin.default",
                ],
                rx.foreach(AdminState.models, _model_row),
            ),
            rx.text(t("admin.no_models"), color_scheme="gray"),
        ),
        rx.grid(
            rx.card(provider_form()), rx.card(model_form()), columns="2", spacing="4", width="100%"
        ),
        spacing="4",
        width="100%",
    )
