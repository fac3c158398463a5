"""Test connection and Import models: the dialog that shows a provider's check."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.admin_forms import dialog_error
from llm_chat.components.check_steps import check_step
from llm_chat.state.admin import AdminState
from llm_chat.state.locale import t


def _import_list() -> rx.Component:
    return rx.vstack(
        rx.heading(t("admin.import_models"), size="3"),
        rx.text(t("admin.import_hint"), size="1", color_scheme="gray"),
        rx.checkbox(
            t("admin.audit_all"),
            checked=AdminState.import_picked.length() == AdminState.importable.length(),
            on_change=AdminState.pick_all_imports,
            id="import-all",
        ),
        rx.scroll_area(
            rx.vstack(
                rx.foreach(
                    AdminState.importable,
                    lambda name: rx.checkbox(
                        rx.code(name),
                        checked=AdminState.import_picked.contains(name),
                        on_change=lambda on: AdminState.toggle_import(name, on),
                        class_name="import-choice",
                    ),
                ),
                spacing="2",
                padding="0.25em",
            ),
            type="auto",
            scrollbars="vertical",
            max_height="14rem",
        ),
        rx.button(
            rx.icon("download", size=16),
            t("admin.import_selected"),
            on_click=AdminState.import_picked_models,
            disabled=AdminState.import_picked.length() == 0,
            id="import-selected",
        ),
        spacing="2",
        width="100%",
    )


def check_dialog() -> rx.Component:
    """The result of Test connection, and the models it found to import."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("admin.check_title"), " · ", AdminState.check_provider_name),
            rx.cond(
                AdminState.check_running,
                rx.hstack(rx.spinner(), rx.text(t("app.loading")), padding_y="1em"),
                rx.vstack(
                    check_step(
                        "admin.check_models",
                        AdminState.check_models_code,
                        AdminState.check_models_ms,
                        "check-models",
                    ),
                    check_step(
                        "admin.check_completion",
                        AdminState.check_completion_code,
                        AdminState.check_completion_ms,
                        "check-completion",
                    ),
                    rx.cond(
                        AdminState.check_completion_model != "",
                        rx.text(
                            t("admin.model_id"),
                            ": ",
                            rx.code(AdminState.check_completion_model),
                            size="1",
                            color_scheme="gray",
                        ),
                    ),
                    rx.separator(),
                    dialog_error(),
                    rx.cond(
                        AdminState.importable.length() > 0,
                        _import_list(),
                        rx.cond(
                            AdminState.check_models_code == "",
                            rx.text(t("admin.all_imported"), size="2", color_scheme="gray"),
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
            rx.hstack(
                rx.dialog.close(rx.button(t("admin.close"), variant="soft", color_scheme="gray")),
                justify="end",
                margin_top="1em",
            ),
            max_width="32rem",
        ),
        open=AdminState.check_provider_id != 0,
        on_open_change=AdminState.close_check,
    )
