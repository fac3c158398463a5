"""Sign-in and registration forms."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

from typing import Any

import reflex as rx

from llm_chat.components.layout import centered_card, error_callout
from llm_chat.state.auth import LoginState, RegisterState
from llm_chat.state.locale import t


def _field(label_key: str, **input_props: Any) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), as_="label", size="2", weight="medium", html_for=input_props["id"]),
        rx.input(width="100%", size="3", **input_props),
        spacing="1",
        width="100%",
    )


def sign_in_form() -> rx.Component:
    """Email and password; errors say what to do."""
    return centered_card(
        rx.heading(t("auth.sign_in_title"), size="6"),
        error_callout(LoginState.error_key, minutes=LoginState.retry_minutes),
        rx.form(
            rx.vstack(
                _field(
                    "auth.email",
                    id="email",
                    name="email",
                    type="email",
                    required=True,
                    auto_complete="username",
                ),
                _field(
                    "auth.password",
                    id="password",
                    name="password",
                    type="password",
                    required=True,
                    auto_complete="current-password",
                ),
                rx.button(
                    t("auth.sign_in"),
                    type="submit",
                    width="100%",
                    size="3",
                    loading=LoginState.busy,
                    id="sign-in-submit",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.sign_in,
            width="100%",
        ),
        rx.hstack(
            rx.text(t("auth.no_account"), size="2", color_scheme="gray"),
            rx.link(t("auth.register"), href="/register", size="2"),
            spacing="2",
        ),
    )


def _register_fields() -> rx.Component:
    """Email (the invitation's, fixed, when the link carries one), name, password twice."""
    return rx.form(
        rx.vstack(
            rx.cond(
                RegisterState.invite_email,
                rx.vstack(
                    rx.text(t("auth.email"), as_="label", size="2", weight="medium"),
                    rx.text(RegisterState.invite_email, size="3", id="invite-email"),
                    spacing="1",
                    width="100%",
                ),
                _field(
                    "auth.email",
                    id="email",
                    name="email",
                    type="email",
                    required=True,
                    auto_complete="username",
                ),
            ),
            _field(
                "auth.display_name",
                id="display_name",
                name="display_name",
                max_length=100,
                auto_complete="name",
            ),
            _field(
                "auth.password",
                id="password",
                name="password",
                type="password",
                required=True,
                min_length=8,
                auto_complete="new-password",
            ),
            _field(
                "auth.password_confirm",
                id="password_confirm",
                name="password_confirm",
                type="password",
                required=True,
                auto_complete="new-password",
            ),
            rx.text(t("auth.password_hint"), size="1", color_scheme="gray"),
            rx.button(
                t("auth.register"),
                type="submit",
                width="100%",
                size="3",
                loading=RegisterState.busy,
                id="register-submit",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=RegisterState.register,
        width="100%",
    )


def _policy_note() -> rx.Component:
    """What the page's visitor should know of the sign-up policy."""
    return rx.cond(
        RegisterState.registered_pending,
        rx.callout(
            t("auth.registered_pending"),
            icon="circle-check",
            color_scheme="green",
            id="registered-pending",
        ),
        rx.cond(
            RegisterState.invite_email,
            rx.text(t("auth.invited"), size="2", color_scheme="gray", id="invited-note"),
            rx.match(
                RegisterState.signup_mode,
                (
                    "approval",
                    rx.text(
                        t("auth.approval_note"), size="2", color_scheme="gray", id="approval-note"
                    ),
                ),
                (
                    "closed",
                    rx.callout(
                        t("auth.signup_closed"),
                        icon="lock",
                        color_scheme="gray",
                        id="signup-closed",
                    ),
                ),
                rx.fragment(),
            ),
        ),
    )


def register_form() -> rx.Component:
    """The registration page: the form, or why there is none."""
    return centered_card(
        rx.heading(t("auth.register_title"), size="6"),
        error_callout(RegisterState.error_key),
        _policy_note(),
        rx.cond(RegisterState.form_open, _register_fields()),
        rx.hstack(
            rx.text(t("auth.have_account"), size="2", color_scheme="gray"),
            rx.link(t("auth.sign_in"), href="/login", size="2"),
            spacing="2",
        ),
    )
