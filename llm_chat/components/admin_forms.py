"""The admin page's forms: add and edit a provider or a model, and the delete confirmations."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

from typing import Any

import reflex as rx

from llm_chat.components.check_steps import check_button, form_check
from llm_chat.components.layout import confirm_dialog
from llm_chat.models import ProviderKind, Role
from llm_chat.providers.presets import PRESETS
from llm_chat.state.admin import AdminState
from llm_chat.state.admin_forms import ROLE_FIELD
from llm_chat.state.locale import t, text_for
from llm_chat.state.provider_form import EDIT, NEW


def labelled(label: str | rx.Var[str], control: rx.Component, **props: Any) -> rx.Component:
    """A field with its label above it (a translation key, or a text var)."""
    return rx.vstack(
        rx.text(t(label) if isinstance(label, str) else label, size="2", weight="medium"),
        control,
        spacing="1",
        width="100%",
        **props,
    )


def dialog_error() -> rx.Component:
    """The last error, inside a dialog (the page's own callout is behind it)."""
    return rx.cond(
        AdminState.error_key != "",
        rx.callout(
            text_for(AdminState.error_key),
            icon="triangle_alert",
            color_scheme="red",
            role="alert",
            width="100%",
            id="dialog-error",
        ),
    )


def _input(name: str, default: rx.Var | str = "", **props: Any) -> rx.Component:
    return rx.input(name=name, default_value=default, width="100%", **props)


def kind_label(kind: Any, label: Any) -> Any:
    """A kind's label; "Custom" in the reader's language (the others are names)."""
    if isinstance(kind, str):
        return t("admin.kind_custom") if kind == ProviderKind.CUSTOM else label
    return rx.cond(kind == ProviderKind.CUSTOM.value, t("admin.kind_custom"), label)


def _kind_items() -> list[rx.Component]:
    return [
        rx.select.item(kind_label(p.kind.value, p.label), value=p.kind.value)
        for p in PRESETS.values()
    ]


def _headers_field(edit: bool) -> rx.Component:
    hint = rx.cond(
        edit & (AdminState.edit_provider.header_names.length() > 0),
        rx.text(
            t("admin.keep_headers_hint"),
            " ",
            rx.code(AdminState.edit_provider.header_names.join(", ")),
            size="1",
            color_scheme="gray",
        ),
    )
    return labelled(
        "admin.extra_headers",
        rx.vstack(
            rx.text_area(
                name="extra_headers",
                placeholder="X-Org-Id: 1234",
                rows="2",
                width="100%",
                font_family="monospace",
            ),
            hint,
            spacing="1",
            width="100%",
        ),
    )


def provider_form() -> rx.Component:
    """Add a provider: kind (fills in the usual URL), name, URL, key, headers, timeout."""
    return rx.form(
        rx.vstack(
            rx.heading(t("admin.add_provider"), size="3"),
            rx.hstack(
                labelled(
                    "admin.kind",
                    rx.select.root(
                        rx.select.trigger(width="100%", id="provider-kind"),
                        rx.select.content(*_kind_items()),
                        value=AdminState.new_provider_kind,
                        on_change=AdminState.pick_kind,
                    ),
                ),
                labelled(
                    "admin.name",
                    _input("name", required=True, max_length=100, id="provider-name"),
                ),
                width="100%",
            ),
            labelled(
                "admin.base_url",
                _input(
                    "base_url", placeholder=AdminState.suggested_base_url, id="provider-base-url"
                ),
            ),
            labelled(
                "admin.api_key",
                _input("api_key", type="password", auto_complete="off", id="provider-api-key"),
            ),
            rx.text(t("admin.api_key_hint"), size="1", color_scheme="gray"),
            _headers_field(edit=False),
            labelled("admin.timeout", _input("timeout", input_mode="decimal", max_length=8)),
            form_check(NEW),
            rx.hstack(
                # The first submit button: the one Enter clicks.
                rx.button(
                    t("admin.add_provider"),
                    type="submit",
                    on_click=AdminState.save_next,
                    id="add-provider",
                ),
                check_button(NEW),
                spacing="3",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=AdminState.submit_new_provider,
        # Emptied once a provider is added (the list grows), not by a check or an error.
        key=AdminState.providers.length().to_string(),
        width="100%",
    )


def edit_provider_dialog() -> rx.Component:
    """Change a provider: the key and headers are never shown, only replaced or removed."""
    p: Any = AdminState.edit_provider
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("admin.edit_provider")),
            rx.form(
                rx.vstack(
                    rx.hstack(
                        labelled(
                            "admin.kind",
                            rx.select.root(
                                rx.select.trigger(width="100%"),
                                rx.select.content(*_kind_items()),
                                name="kind",
                                default_value=p.kind,
                            ),
                        ),
                        labelled(
                            "admin.name",
                            _input("name", p.name, required=True, max_length=100),
                        ),
                        width="100%",
                    ),
                    labelled(
                        "admin.base_url",
                        _input("base_url", p.base_url, required=True, id="edit-base-url"),
                    ),
                    labelled(
                        "admin.api_key",
                        _input(
                            "api_key",
                            type="password",
                            auto_complete="off",
                            placeholder=rx.cond(p.has_api_key, "••••••••", ""),
                            id="edit-api-key",
                        ),
                    ),
                    rx.text(t("admin.keep_key_hint"), size="1", color_scheme="gray"),
                    rx.cond(p.has_api_key, rx.checkbox(t("admin.remove_key"), name="remove_key")),
                    _headers_field(edit=True),
                    rx.cond(
                        p.header_names.length() > 0,
                        rx.checkbox(t("admin.remove_headers"), name="remove_headers"),
                    ),
                    labelled(
                        "admin.timeout",
                        _input(
                            "timeout",
                            rx.cond(p.timeout_seconds.is_none(), "", p.timeout_seconds.to_string()),
                            input_mode="decimal",
                            max_length=8,
                        ),
                    ),
                    dialog_error(),
                    form_check(EDIT),
                    _dialog_buttons("save-provider", check=EDIT),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AdminState.submit_edit_provider,
                width="100%",
            ),
            max_width="36rem",
        ),
        open=AdminState.edit_provider_id != 0,
        on_open_change=AdminState.close_edit_provider,
    )


def _dialog_buttons(save_id: str, check: str = "") -> rx.Component:
    """Cancel and Save, and Test connection of form ``check`` (if any) at the left: after
    Save in the page's order, so that Enter saves."""
    save = rx.button(t("admin.save"), type="submit", id=save_id)
    extra: list[rx.Component] = []
    if check:
        save = rx.button(t("admin.save"), type="submit", on_click=AdminState.save_next, id=save_id)
        extra = [rx.box(check_button(check), order="-1", margin_right="auto")]
    return rx.hstack(
        rx.dialog.close(
            rx.button(t("chat.cancel"), type="button", variant="soft", color_scheme="gray")
        ),
        save,
        *extra,
        justify="end",
        spacing="3",
        width="100%",
    )


def priced(key: str) -> rx.Var[str]:
    """The text of ``key`` with its ``{currency}``: the currency of the prices."""
    return text_for(key).replace("{currency}", AdminState.currency)


def _value(defaults: Any, field: str) -> rx.Var | str:
    return getattr(defaults, field) if defaults is not None else ""


def model_fields(defaults: Any = None) -> list[rx.Component]:
    """The fields of a model, empty or filled in with ``defaults`` (a ``ModelForm`` var)."""
    roles = [
        rx.checkbox(
            t(f"admin.role_{role.value}"),
            name=ROLE_FIELD + role.value,
            default_checked=defaults.roles.contains(role.value) if defaults is not None else False,
        )
        for role in Role
    ]
    return [
        labelled(
            "admin.provider",
            rx.select.root(
                rx.select.trigger(width="100%", placeholder=t("admin.pick_provider")),
                rx.select.content(
                    rx.foreach(
                        AdminState.providers,
                        lambda p: rx.select.item(p.name, value=p.id.to_string()),
                    )
                ),
                name="provider_id",
                default_value=_value(defaults, "provider_id"),
                required=True,
            ),
        ),
        rx.hstack(
            labelled(
                "admin.display_name",
                _input(
                    "display_name",
                    _value(defaults, "display_name"),
                    required=True,
                    max_length=100,
                ),
            ),
            labelled(
                "admin.model_id",
                _input("model_name", _value(defaults, "model_name"), required=True, max_length=200),
            ),
            width="100%",
        ),
        rx.grid(
            labelled("admin.temperature", _input("temperature", _value(defaults, "temperature"))),
            labelled("admin.top_p", _input("top_p", _value(defaults, "top_p"))),
            labelled("admin.max_tokens", _input("max_tokens", _value(defaults, "max_tokens"))),
            labelled(
                "admin.context_window",
                _input("context_window", _value(defaults, "context_window")),
            ),
            labelled(
                priced("admin.price_input"), _input("price_input", _value(defaults, "price_input"))
            ),
            labelled(
                priced("admin.price_output"),
                _input("price_output", _value(defaults, "price_output")),
            ),
            columns="2",
            spacing="3",
            width="100%",
        ),
        labelled("admin.roles", rx.hstack(*roles, spacing="4")),
        rx.checkbox(
            t("admin.reasoning"),
            name="is_reasoning",
            default_checked=defaults.is_reasoning if defaults is not None else False,
        ),
        labelled(
            "admin.system_prompt",
            rx.text_area(
                name="system_prompt",
                default_value=_value(defaults, "system_prompt"),
                rows="3",
                width="100%",
            ),
        ),
    ]


def model_form() -> rx.Component:
    """Add a model to a provider."""
    return rx.form(
        rx.vstack(
            rx.heading(t("admin.add_model"), size="3"),
            *model_fields(),
            rx.button(t("admin.add_model"), type="submit", id="add-model"),
            spacing="3",
            width="100%",
        ),
        on_submit=AdminState.add_model,
        reset_on_submit=True,
        width="100%",
    )


def edit_model_dialog() -> rx.Component:
    """Change every setting of a model."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("admin.edit_model")),
            rx.form(
                rx.vstack(
                    *model_fields(AdminState.edit_model),
                    dialog_error(),
                    _dialog_buttons("save-model"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AdminState.save_model,
                width="100%",
            ),
            max_width="40rem",
        ),
        open=AdminState.edit_model_id != 0,
        on_open_change=AdminState.close_edit_model,
    )


def delete_dialogs() -> rx.Component:
    """The confirmations before a provider (with its models) or a model is deleted."""
    models = AdminState.delete_provider_models.to_string()
    return rx.fragment(
        confirm_dialog(
            rx.code(AdminState.delete_provider_name),
            rx.alert_dialog.description(
                text_for("admin.delete_provider_warning").replace("{count}", models),
                margin_top="0.5em",
            ),
            title_key="admin.delete_provider_title",
            action_key="admin.delete",
            on_confirm=AdminState.confirm_delete_provider,
            is_open=AdminState.delete_provider_id != 0,
            on_close=AdminState.close_delete_provider,
            action_id="confirm-delete-provider",
        ),
        confirm_dialog(
            rx.code(AdminState.delete_model_name),
            rx.alert_dialog.description(t("admin.delete_model_warning"), margin_top="0.5em"),
            title_key="admin.delete_model_title",
            action_key="admin.delete",
            on_confirm=AdminState.confirm_delete_model,
            is_open=AdminState.delete_model_id != 0,
            on_close=AdminState.close_delete_model,
            action_id="confirm-delete-model",
        ),
    )
