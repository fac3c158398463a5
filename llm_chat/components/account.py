"""The settings page's account section: name, password, other sessions."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import error_callout
from llm_chat.services.users import MAX_DISPLAY_NAME, MAX_PASSWORD_LENGTH
from llm_chat.state.account import PASSWORD_FIELDS, AccountState
from llm_chat.state.locale import t, text_for


def _notice(key: rx.Var[str] | str) -> rx.Component:
    return rx.cond(key != "", rx.callout(text_for(key), icon="check", color_scheme="green"))


def _labelled(label_key: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="2", weight="medium"), control, spacing="1", width="100%"
    )


def profile_form() -> rx.Component:
    """The user's display name."""
    return rx.form(
        rx.vstack(
            _labelled(
                "account.name",
                rx.hstack(
                    rx.input(
                        name="display_name",
                        default_value=AccountState.user_name,
                        key=AccountState.user_name,
                        required=True,
                        max_length=MAX_DISPLAY_NAME,
                        flex="1",
                        id="profile-name",
                    ),
                    rx.button(t("account.save"), type="submit", id="profile-save"),
                    width="100%",
                ),
            ),
            error_callout(AccountState.profile_error),
            _notice(AccountState.profile_notice),
            spacing="3",
            width="100%",
        ),
        on_submit=AccountState.save_profile,
        width="100%",
    )


def _password_input(field_id: str, name: str, label_key: str, autocomplete: str) -> rx.Component:
    return _labelled(
        label_key,
        rx.input(
            name=name,
            type="password",
            required=True,
            max_length=MAX_PASSWORD_LENGTH,
            auto_complete=autocomplete,
            width="100%",
            id=field_id,
        ),
    )


def password_form() -> rx.Component:
    """A new password; every other session of the user ends."""
    current, new, confirm = PASSWORD_FIELDS
    return rx.form(
        rx.vstack(
            rx.heading(t("account.password_title"), size="3"),
            rx.text(t("account.password_hint"), color_scheme="gray", size="2"),
            _password_input(
                current, "current_password", "account.current_password", "current-password"
            ),
            rx.hstack(
                _password_input(new, "new_password", "account.new_password", "new-password"),
                _password_input(
                    confirm, "new_password_confirm", "auth.password_confirm", "new-password"
                ),
                width="100%",
            ),
            error_callout(AccountState.security_error),
            _notice(AccountState.security_notice),
            rx.hstack(
                rx.button(
                    t("account.change_password"),
                    type="submit",
                    loading=AccountState.busy,
                    id="password-save",
                ),
                rx.button(
                    rx.icon("log_out", size=16),
                    t("account.sign_out_others"),
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AccountState.sign_out_others,
                    id="sign-out-others",
                ),
                spacing="3",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=AccountState.change_password,
        width="100%",
    )


def account_panel() -> rx.Component:
    """Everything about the user's own account."""
    return rx.vstack(
        rx.heading(t("account.title"), size="5"),
        rx.text(AccountState.user_email, color_scheme="gray", size="2", id="account-email"),
        profile_form(),
        rx.divider(),
        password_form(),
        spacing="4",
        width="100%",
    )
