"""The admin page (``/admin``)."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.admin import admin_panel
from llm_chat.components.layout import loading_screen, page_frame
from llm_chat.state.admin import AdminState


def admin_page() -> rx.Component:
    """Providers and models; only admins get past the guard."""
    return rx.cond(
        AdminState.signed_in & AdminState.is_admin,
        page_frame("admin.title", admin_panel(), size="4"),
        loading_screen(),
    )
