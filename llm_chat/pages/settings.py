"""The settings page (``/settings``): personal API keys."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import loading_screen, page_tools
from llm_chat.components.settings import api_keys_panel
from llm_chat.state.locale import t
from llm_chat.state.settings import SettingsState


def settings_page() -> rx.Component:
    """The user's API keys; nothing renders before the session is verified."""
    return rx.cond(
        SettingsState.signed_in,
        rx.container(
            rx.vstack(
                rx.hstack(
                    rx.heading(t("settings.title"), size="7"),
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
                api_keys_panel(),
                spacing="5",
                padding_y="2em",
            ),
            size="3",
        ),
        loading_screen(),
    )
