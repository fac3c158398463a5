"""The settings page (``/settings``): the account and personal API keys."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.account import account_panel
from llm_chat.components.layout import loading_screen, page_frame
from llm_chat.components.settings import api_keys_panel
from llm_chat.state.settings import SettingsState


def settings_page() -> rx.Component:
    """The user's account and API keys; nothing renders before the session is verified."""
    return rx.cond(
        SettingsState.signed_in,
        page_frame(
            "settings.title",
            rx.vstack(account_panel(), rx.divider(), api_keys_panel(), spacing="6", width="100%"),
        ),
        loading_screen(),
    )
