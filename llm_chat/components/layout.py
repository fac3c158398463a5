"""Pieces every page shares: language and theme switches, loading screen, cards."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

from typing import Literal

import reflex as rx
from reflex.event import EventType

from llm_chat.i18n import LANGUAGE_NAMES
from llm_chat.state.locale import LocaleState, t, text_for


def language_picker() -> rx.Component:
    """A small select that switches the UI language."""
    return rx.select.root(
        rx.select.trigger(variant="ghost", aria_label=t("app.language")),
        rx.select.content(
            *[rx.select.item(name, value=code) for code, name in LANGUAGE_NAMES.items()]
        ),
        value=LocaleState.html_lang,
        on_change=LocaleState.set_language,
        size="1",
    )


def theme_toggle() -> rx.Component:
    """Switch between light and dark mode."""
    return rx.tooltip(
        rx.color_mode.button(size="1", variant="ghost", aria_label=t("app.toggle_theme")),
        content=t("app.toggle_theme"),
    )


def page_tools() -> rx.Component:
    """Language and theme switches, side by side."""
    return rx.hstack(language_picker(), theme_toggle(), spacing="3", align="center")


def loading_screen() -> rx.Component:
    """Shown until the session is verified, so protected content never flashes."""
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(t("app.loading"), color_scheme="gray")),
        height="100vh",
    )


def error_callout(key: rx.Var[str] | str, minutes: rx.Var[int] | int | None = None) -> rx.Component:
    """A red callout with the translated error ``key``, hidden when it is empty; its
    ``{minutes}`` shows ``minutes`` (a state var)."""
    text = text_for(key)
    if minutes is not None:
        text = text.replace("{minutes}", rx.Var.create(minutes).to_string())
    return rx.cond(
        key != "",
        rx.callout(
            text,
            icon="triangle_alert",
            color_scheme="red",
            role="alert",
            width="100%",
            id="error-callout",
        ),
    )


def centered_card(*children: rx.Component) -> rx.Component:
    """A card in the middle of the page, with the switches in the corner."""
    return rx.box(
        rx.box(page_tools(), position="absolute", top="1em", right="1em"),
        rx.center(
            rx.card(rx.vstack(*children, spacing="4", width="100%"), size="4", width="24rem"),
            min_height="100vh",
            padding="1em",
        ),
        position="relative",
    )


def page_frame(
    title_key: str, content: rx.Component, *, size: Literal["3", "4"] = "3"
) -> rx.Component:
    """A signed-in page other than the chat: title, a way back to the chat, the switches."""
    return rx.container(
        rx.vstack(
            rx.hstack(
                rx.heading(t(title_key), size="7"),
                rx.hstack(
                    rx.link(t("admin.back_to_chat"), href="/"),
                    page_tools(),
                    align="center",
                    spacing="4",
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            content,
            spacing="5",
            padding_y="2em",
        ),
        size=size,
    )


def confirm_dialog(
    *details: rx.Component,
    title_key: str,
    action_key: str,
    on_confirm: EventType[()],
    is_open: rx.Var[bool] | bool,
    on_close: EventType[bool],
    action_id: str | None = None,
) -> rx.Component:
    """Asks before something that cannot be undone; the action button is red."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(t(title_key)),
            *details,
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(t("chat.cancel"), variant="soft", color_scheme="gray")
                ),
                rx.alert_dialog.action(
                    rx.button(t(action_key), color_scheme="red", id=action_id, on_click=on_confirm)
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=is_open,
        on_open_change=on_close,
    )


def shown_once_panel(
    title: rx.Component,
    warning_key: str,
    *,
    field_id: str,
    visible: rx.Var[bool] | bool,
    on_done: EventType[()],
    copy: bool = False,
) -> rx.Component:
    """A secret shown once (a new API key, a generated password) in a read-only field.

    Always in the page (hidden while there is nothing to show), so that the event that fills
    in the field always finds it: the secret never enters the state, which is pickled to
    disk or Redis. Run with ``rx.run_script``, which compiles the scripts into the page; a
    script sent as a string to eval is forbidden by the Content-Security-Policy.
    """
    field = f"document.getElementById('{field_id}')"
    buttons = [rx.button(t("settings.done"), on_click=on_done)]
    if copy:
        buttons.insert(
            0,
            rx.button(
                rx.icon("copy", size=16),
                t("settings.copy"),
                variant="soft",
                on_click=rx.run_script(f"navigator.clipboard.writeText({field}.value)"),
            ),
        )
    return rx.card(
        rx.vstack(
            title,
            rx.text(t(warning_key), size="2", color_scheme="amber"),
            rx.hstack(
                rx.input(
                    read_only=True,
                    id=field_id,
                    font_family="monospace",
                    flex="1",
                    on_focus=rx.run_script(f"{field}.select()"),
                ),
                *buttons,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        display=rx.cond(visible, "block", "none"),
    )
