"""The admin page (``/admin``)."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.admin import admin_panel
from llm_chat.components.layout import loading_screen, page_tools
from llm_chat.state.admin import AdminState
from llm_chat.state.locale import t


def admin_page() -> rx.Component:
    """Providers and models; only admins get past the guard."""
    return rx.cond(
        AdminState.signed_in & AdminState.is_admin,
        rx.container(
            rx.vstack(
                rx.hstack(
                    rx.heading(t("admin.title"), size="7"),
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
                admin_panel(),
                spacing="5",
                padding_y="2em",
            ),
            size="4",
        ),
        loading_screen(),
    )
