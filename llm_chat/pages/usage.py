"""The usage page (``/admin/usage``)."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import loading_screen, page_frame
from llm_chat.components.usage_admin import usage_panel
from llm_chat.state.operate import OperateState


def usage_page() -> rx.Component:
    """Tokens and cost over a range of days; only admins get past the guard."""
    return rx.cond(
        OperateState.signed_in & OperateState.is_admin,
        page_frame("usage.title", usage_panel(), size="4"),
        loading_screen(),
    )
