"""What Test connection found, step by step: in its dialog (a saved provider) and inside the
add-provider form and the edit dialog (the values typed, before saving)."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

from typing import Any

import reflex as rx

from llm_chat.services.provider_check import NO_MODEL, NOT_ASKED
from llm_chat.state.admin import AdminState
from llm_chat.state.locale import t, text_for
from llm_chat.state.provider_form import FormCheck

# The check of a form's values, typed (rendered only once set).
CHECK = rx.Var.create(AdminState.form_check).to(FormCheck)


def check_step(label_key: str, code: Any, ms: Any, step_id: str) -> rx.Component:
    """One request's line: a green or red status, its translated text and its latency
    (``code`` and ``ms`` are state vars)."""
    ok = code == ""
    return rx.hstack(
        rx.icon(
            rx.cond(ok, "circle_check", "circle_x"),
            color=rx.cond(ok, rx.color("grass", 10), rx.color("red", 10)),
            size=18,
            flex_shrink="0",
        ),
        rx.vstack(
            rx.text(t(label_key), weight="medium", size="2"),
            rx.text(
                rx.cond(ok, t("admin.check_ok"), text_for(code)),
                size="2",
                color_scheme=rx.cond(ok, "grass", "red"),
                id=step_id,
            ),
            spacing="0",
        ),
        rx.spacer(),
        # No latency for a request not made.
        rx.cond(
            (code == NO_MODEL) | (code == NOT_ASKED),
            rx.fragment(),
            rx.badge(ms.to_string() + " ms", variant="soft", color_scheme="gray"),
        ),
        align="center",
        width="100%",
    )


def check_button(form: str) -> rx.Component:
    """Test connection for a provider form: submits it without its required-field checks,
    saying first that this submit is a check."""
    return rx.button(
        rx.icon("plug_zap", size=16),
        t("admin.test_connection"),
        type="submit",
        variant="soft",
        form_no_validate=True,
        on_click=AdminState.check_next,
        loading=rx.cond(AdminState.form_check, CHECK.running & (CHECK.form == form), False),
        id=f"check-{form}-provider",
    )


def form_check(form: str) -> rx.Component:
    """The last check of form ``form``'s values: a refusal, or each step and the models
    listed."""
    listed_key = "admin.check_listed_new" if form == "new" else "admin.check_listed"
    return rx.cond(
        AdminState.form_check,
        rx.cond(
            CHECK.form == form,
            rx.cond(
                CHECK.error_key != "",
                rx.callout(
                    text_for(CHECK.error_key),
                    icon="triangle_alert",
                    color_scheme="red",
                    role="alert",
                    size="1",
                    width="100%",
                    id=f"check-{form}-error",
                ),
                rx.box(
                    rx.cond(
                        CHECK.running,
                        rx.hstack(rx.spinner(), rx.text(t("admin.check_running"), size="2")),
                        _steps(form, listed_key),
                    ),
                    padding="0.75em",
                    border=f"1px solid {rx.color('gray', 6)}",
                    border_radius="var(--radius-3)",
                    width="100%",
                    id=f"check-{form}",
                ),
            ),
        ),
    )


def _steps(form: str, listed_key: str) -> rx.Component:
    return rx.vstack(
        rx.text(t("admin.check_unsaved"), size="1", color_scheme="gray"),
        check_step(
            "admin.check_models", CHECK.models_code, CHECK.models_ms, f"check-{form}-models"
        ),
        check_step(
            "admin.check_completion",
            CHECK.completion_code,
            CHECK.completion_ms,
            f"check-{form}-completion",
        ),
        rx.cond(
            CHECK.completion_model != "",
            rx.text(
                t("admin.model_id"),
                ": ",
                rx.code(CHECK.completion_model),
                size="1",
                color_scheme="gray",
            ),
        ),
        rx.cond(
            CHECK.listed > 0,
            rx.text(
                text_for(listed_key).replace("{count}", CHECK.listed.to_string()),
                size="1",
                color_scheme="gray",
                id=f"check-{form}-listed",
            ),
        ),
        spacing="2",
        width="100%",
    )
