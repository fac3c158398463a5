"""The limits page's parts: a form per role, a user's own limits in a dialog, and the
currency of the models' prices."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.admin_links import admin_links
from llm_chat.components.layout import error_callout
from llm_chat.state.limit_rows import FIELDS, LimitRow
from llm_chat.state.locale import t, text_for
from llm_chat.state.operate import LIMITS_ROUTE, LimitsPage, OperateState, UserDialog

# The page and the user dialog, typed (rendered only once set).
PAGE = rx.Var.create(OperateState.limits).to(LimitsPage)
DIALOG = rx.Var.create(OperateState.dialog).to(UserDialog)

LABELS = {
    "messages_per_minute": "limits.messages_per_minute_label",
    "tokens_per_day": "limits.tokens_per_day_label",
    "concurrent_streams": "limits.concurrent_streams_label",
}


def _role_name(role: rx.Var[str] | str) -> rx.Var[str]:
    return rx.match(
        role, ("admin", text_for("limits.role_admin")), text_for("limits.role_user")
    ).to(str)


def _number_input(name: str, value: rx.Var[str], placeholder: rx.Var[str] | str) -> rx.Component:
    return rx.input(
        name=name,
        default_value=value,
        placeholder=placeholder,
        input_mode="numeric",
        pattern="[0-9,_]*",
        aria_label=t(LABELS[name]),
        width="100%",
    )


def role_limits() -> rx.Component:
    """A row per role: its three defaults, saved together."""
    return rx.vstack(
        rx.heading(t("limits.roles"), size="4"),
        rx.text(t("limits.roles_hint"), size="2", color_scheme="gray"),
        rx.foreach(PAGE.roles, _role_form),
        spacing="3",
        width="100%",
    )


def _field(name: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(t(LABELS[name]), size="2", weight="medium"),
        control,
        spacing="1",
        flex="1",
        min_width="10em",
        width="100%",
    )


def _role_form(row: rx.Var[LimitRow]) -> rx.Component:
    streams_default = text_for("limits.streams_default").replace(
        "{n}", PAGE.fallback_streams.to_string()
    )
    placeholders = {
        "messages_per_minute": "0",
        "tokens_per_day": "0",
        "concurrent_streams": streams_default,
    }
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text(_role_name(row.role), weight="bold"),
                rx.flex(
                    *[
                        _field(name, _number_input(name, getattr(row, name), placeholders[name]))
                        for name in FIELDS
                    ],
                    rx.el.input(type="hidden", name="role", value=row.role),
                    rx.button(t("limits.save"), type="submit", id="save-role-" + row.role),
                    spacing="3",
                    align="end",
                    wrap="wrap",
                    width="100%",
                ),
                width="100%",
            ),
            on_submit=OperateState.save_role,
            key=row.role + row.messages_per_minute + row.tokens_per_day + row.concurrent_streams,
            width="100%",
        ),
        width="100%",
        id="role-" + row.role,
    )


def price_currency() -> rx.Component:
    """The ISO 4217 code the models' prices (and so every cost) are in."""
    return rx.vstack(
        rx.heading(t("limits.prices"), size="4"),
        rx.text(t("limits.currency_hint"), size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.text(t("limits.currency"), size="2", weight="medium"),
                rx.input(
                    name="currency",
                    default_value=PAGE.currency,
                    aria_label=t("limits.currency"),
                    placeholder="USD",
                    max_length=3,
                    required=True,
                    pattern="[A-Za-z]{3}",
                    text_transform="uppercase",
                    width="6em",
                    id="price-currency",
                ),
                rx.button(t("limits.save"), type="submit", variant="soft", id="save-currency"),
                align="center",
            ),
            on_submit=OperateState.save_currency,
            key=PAGE.currency,
        ),
        spacing="2",
        width="100%",
    )


def user_lookup() -> rx.Component:
    """A user's id, to open their own limits."""
    return rx.vstack(
        rx.heading(t("limits.user"), size="4"),
        rx.text(t("limits.user_hint"), size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.input(
                    name="user_id",
                    placeholder=t("limits.user_id"),
                    aria_label=t("limits.user_id"),
                    input_mode="numeric",
                    required=True,
                    width="10em",
                    id="limits-user-id",
                ),
                rx.button(t("limits.open_user"), type="submit", variant="soft"),
            ),
            on_submit=OperateState.open_user,
        ),
        spacing="2",
        width="100%",
    )


def user_dialog() -> rx.Component:
    """The user's own limits: empty follows the role, 0 lifts the limit."""
    own = DIALOG.own.to(LimitRow)
    effective = DIALOG.effective.to(LimitRow)
    return rx.cond(OperateState.dialog, _dialog(own, effective))


def _dialog(own: rx.Var[LimitRow], effective: rx.Var[LimitRow]) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(DIALOG.email),
            rx.dialog.description(
                text_for("limits.user_dialog_hint").replace("{role}", _role_name(own.role)),
                size="2",
            ),
            rx.form(
                rx.vstack(
                    *[
                        _field(
                            name,
                            _number_input(
                                name,
                                getattr(own, name),
                                text_for("limits.role_value").replace(
                                    "{n}", getattr(effective, name)
                                ),
                            ),
                        )
                        for name in FIELDS
                    ],
                    error_callout(DIALOG.error_key),
                    _notice(DIALOG.notice_key),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button(t("limits.close"), variant="soft", color_scheme="gray")
                        ),
                        rx.button(t("limits.save"), type="submit", id="save-user-limits"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1em",
                    width="100%",
                ),
                on_submit=OperateState.save_user,
                key=DIALOG.user_id.to_string()
                + own.messages_per_minute
                + own.tokens_per_day
                + own.concurrent_streams,
            ),
            max_width="28em",
        ),
        open=True,
        on_open_change=OperateState.close_user,
    )


def _notice(key: rx.Var[str]) -> rx.Component:
    return rx.cond(
        key != "", rx.callout(text_for(key), icon="check", color_scheme="green", width="100%")
    )


def limits_panel() -> rx.Component:
    """Everything on the limits page (once it has loaded)."""
    return rx.cond(OperateState.limits, _panel(), rx.spinner())


def _panel() -> rx.Component:
    return rx.vstack(
        admin_links(LIMITS_ROUTE),
        rx.text(t("limits.hint"), size="2", color_scheme="gray"),
        error_callout(PAGE.error_key),
        _notice(PAGE.notice_key),
        role_limits(),
        user_lookup(),
        price_currency(),
        user_dialog(),
        spacing="5",
        width="100%",
    )
