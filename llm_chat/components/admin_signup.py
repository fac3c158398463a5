"""The admin page's sign-up tab: who may create an account, and invitations."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import error_callout, shown_once_panel
from llm_chat.models import Role
from llm_chat.services.signup import MAX_INVITE_DAYS, SignupMode
from llm_chat.state.locale import t, text_for
from llm_chat.state.signup_admin import INVITE_LINK_FIELD_ID, InviteItem, SignupAdminState


def _policy_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(t("admin.signup_title"), size="4"),
                rx.radio_group.root(
                    rx.vstack(
                        *[
                            rx.text(
                                rx.hstack(
                                    rx.radio_group.item(value=mode.value),
                                    rx.vstack(
                                        rx.text(t(f"admin.signup_{mode.value}"), weight="medium"),
                                        rx.text(
                                            t(f"admin.signup_{mode.value}_help"),
                                            size="1",
                                            color_scheme="gray",
                                        ),
                                        spacing="0",
                                    ),
                                    spacing="2",
                                    align="start",
                                ),
                                as_="label",
                                size="2",
                            )
                            for mode in SignupMode
                        ],
                        spacing="3",
                    ),
                    name="mode",
                    value=SignupAdminState.mode,
                    on_change=SignupAdminState.set_mode,
                    id="signup-mode",
                ),
                rx.hstack(
                    rx.text(
                        t("admin.invite_days"),
                        as_="label",
                        size="2",
                        html_for="invite-days",
                    ),
                    rx.input(
                        name="invite_days",
                        type="number",
                        min=1,
                        max=MAX_INVITE_DAYS,
                        default_value=SignupAdminState.invite_days.to_string(),
                        key=SignupAdminState.invite_days,
                        width="6em",
                        id="invite-days",
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.button(t("admin.save"), type="submit", id="save-signup"),
                spacing="4",
            ),
            on_submit=SignupAdminState.save_policy,
        ),
        width="100%",
    )


def _invite_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="email",
                type="email",
                placeholder=t("admin.invite_email"),
                required=True,
                max_length=255,
                flex="1",
                id="invite-email",
            ),
            rx.select.root(
                rx.select.trigger(aria_label=t("admin.role")),
                rx.select.content(
                    rx.select.item(t("admin.role_is_user"), value=Role.USER.value),
                    rx.select.item(t("admin.role_is_admin"), value=Role.ADMIN.value),
                ),
                name="role",
                default_value=Role.USER.value,
                id="invite-role",
            ),
            rx.button(rx.icon("mail-plus", size=16), t("admin.invite"), type="submit"),
            width="100%",
            align="center",
        ),
        on_submit=SignupAdminState.invite,
        width="100%",
    )


def _invite_row(item: rx.Var[InviteItem]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item.email),
        rx.table.cell(
            rx.cond(
                item.role == Role.ADMIN.value, t("admin.role_is_admin"), t("admin.role_is_user")
            )
        ),
        rx.table.cell(item.created),
        rx.table.cell(
            rx.cond(
                item.usable,
                rx.text(item.expires),
                rx.badge(t("admin.invite_expired"), color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.button(
                t("admin.invite_revoke"),
                size="1",
                variant="ghost",
                color_scheme="red",
                on_click=SignupAdminState.revoke(item.id),
            )
        ),
        class_name="invite-row",
    )


def _invites() -> rx.Component:
    headers = ["auth.email", "admin.role", "settings.created", "admin.invite_expires", ""]
    return rx.card(
        rx.vstack(
            rx.heading(t("admin.invites_title"), size="4"),
            rx.text(t("admin.invites_help"), size="2", color_scheme="gray"),
            _invite_form(),
            shown_once_panel(
                rx.text(t("admin.invite_link_for"), " ", rx.code(SignupAdminState.link_for)),
                "admin.invite_link_warning",
                field_id=INVITE_LINK_FIELD_ID,
                visible=SignupAdminState.link_for != "",
                on_done=SignupAdminState.dismiss_link,
                copy=True,
            ),
            rx.cond(
                SignupAdminState.invites.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(t(h) if h else "") for h in headers]
                        )
                    ),
                    rx.table.body(rx.foreach(SignupAdminState.invites, _invite_row)),
                    width="100%",
                    id="invite-table",
                ),
                rx.text(t("admin.no_invites"), size="2", color_scheme="gray", id="no-invites"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def signup_panel() -> rx.Component:
    """The sign-up policy and the invitations."""
    return rx.vstack(
        error_callout(SignupAdminState.error_key),
        rx.cond(
            SignupAdminState.notice_key != "",
            rx.callout(text_for(SignupAdminState.notice_key), icon="check", color_scheme="green"),
        ),
        _policy_form(),
        _invites(),
        spacing="4",
        width="100%",
    )
