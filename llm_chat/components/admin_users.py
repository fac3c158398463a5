"""The admin page's users tab: search, page, roles, enable, reset, sign out, delete."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import confirm_dialog, error_callout, shown_once_panel
from llm_chat.models import Role
from llm_chat.state.admin_users import PASSWORD_FIELD_ID, UserAdminState, UserItem
from llm_chat.state.locale import t, text_for


def _search_form() -> rx.Component:
    # The checkbox acts at once, outside the form (a form would submit it by its id).
    pending = rx.text(
        rx.hstack(
            rx.checkbox(
                checked=UserAdminState.pending_only,
                on_change=UserAdminState.show_pending,
                id="pending-only",
            ),
            t("admin.pending_only"),
            spacing="2",
            align="center",
        ),
        as_="label",
        size="2",
        white_space="nowrap",
    )
    return rx.hstack(
        pending,
        rx.form(
            rx.hstack(
                rx.input(
                    name="search",
                    placeholder=t("admin.search_users"),
                    default_value=UserAdminState.search,
                    max_length=100,
                    flex="1",
                    id="user-search",
                ),
                rx.button(rx.icon("search", size=16), t("admin.find"), type="submit"),
                width="100%",
            ),
            on_submit=UserAdminState.find,
            flex="1",
        ),
        width="100%",
        align="center",
    )


def _role_select(user: rx.Var[UserItem]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(variant="ghost", aria_label=t("admin.role")),
        rx.select.content(
            rx.select.item(t("admin.role_is_user"), value=Role.USER.value),
            rx.select.item(t("admin.role_is_admin"), value=Role.ADMIN.value),
        ),
        value=user.role,
        on_change=lambda role: UserAdminState.change_role(user.id, role),
        size="1",
    )


def _user_row(user: rx.Var[UserItem]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(user.name, weight="medium"),
                    rx.cond(
                        user.pending,
                        rx.badge(t("admin.pending_badge"), color_scheme="amber", size="1"),
                    ),
                    spacing="2",
                    align="center",
                ),
                rx.text(user.email, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(_role_select(user)),
        rx.table.cell(
            rx.switch(
                checked=user.active,
                on_change=lambda active: UserAdminState.set_active(user.id, active),
                aria_label=t("admin.active"),
            )
        ),
        rx.table.cell(user.created),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    user.pending,
                    rx.button(
                        t("admin.approve"),
                        size="1",
                        color_scheme="green",
                        on_click=UserAdminState.approve(user.id),
                        class_name="approve-button",
                    ),
                ),
                rx.button(
                    t("admin.reset_password"),
                    size="1",
                    variant="soft",
                    on_click=UserAdminState.open_reset(user.id, user.email),
                ),
                rx.button(
                    t("admin.sign_out_everywhere"),
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=UserAdminState.sign_out_everywhere(user.id),
                ),
                rx.button(
                    t("admin.delete"),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=UserAdminState.open_delete(user.id, user.email),
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        class_name="user-row",
    )


def _password_panel() -> rx.Component:
    """A generated password, once."""
    return shown_once_panel(
        rx.text(t("admin.new_password_for"), " ", rx.code(UserAdminState.password_for)),
        "admin.new_password_warning",
        field_id=PASSWORD_FIELD_ID,
        visible=UserAdminState.password_for != "",
        on_done=UserAdminState.dismiss_password,
    )


def _dialogs() -> rx.Component:
    return rx.fragment(
        confirm_dialog(
            rx.code(UserAdminState.dialog_email),
            rx.alert_dialog.description(t("admin.delete_user_warning"), margin_top="0.5em"),
            title_key="admin.delete_user_title",
            action_key="admin.delete",
            on_confirm=UserAdminState.confirm_delete(UserAdminState.delete_id),
            is_open=UserAdminState.delete_id != 0,
            on_close=UserAdminState.close_dialogs,
        ),
        confirm_dialog(
            rx.code(UserAdminState.dialog_email),
            rx.alert_dialog.description(t("admin.reset_password_warning"), margin_top="0.5em"),
            title_key="admin.reset_password_title",
            action_key="admin.reset_password",
            on_confirm=UserAdminState.confirm_reset(UserAdminState.reset_id),
            is_open=UserAdminState.reset_id != 0,
            on_close=UserAdminState.close_dialogs,
        ),
    )


def users_panel() -> rx.Component:
    """Every account, a page at a time."""
    headers = ["admin.user", "admin.role", "admin.active", "settings.created"]
    return rx.vstack(
        _search_form(),
        error_callout(UserAdminState.error_key),
        rx.cond(
            UserAdminState.notice_key != "",
            rx.callout(text_for(UserAdminState.notice_key), icon="check", color_scheme="green"),
        ),
        _password_panel(),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(t(h)) for h in headers],
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(UserAdminState.users, _user_row)),
            width="100%",
            id="user-table",
        ),
        rx.hstack(
            rx.button(
                rx.icon("chevron_left", size=16),
                variant="soft",
                disabled=UserAdminState.offset == 0,
                on_click=UserAdminState.previous_page,
                aria_label=t("admin.previous_page"),
            ),
            rx.text(UserAdminState.page_label, size="2", id="user-page"),
            rx.button(
                rx.icon("chevron_right", size=16),
                variant="soft",
                disabled=UserAdminState.offset + UserAdminState.users.length()
                >= UserAdminState.total,
                on_click=UserAdminState.next_page,
                aria_label=t("admin.next_page"),
            ),
            align="center",
            spacing="3",
        ),
        _dialogs(),
        spacing="4",
        width="100%",
    )
