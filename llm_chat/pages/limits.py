"""The limits page (``/admin/limits``)."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import loading_screen, page_frame
from llm_chat.components.limits import limits_panel
from llm_chat.state.operate import OperateState


def limits_page() -> rx.Component:
    """Role defaults and a user's own limits; only admins get past the guard."""
    return rx.cond(
        OperateState.signed_in & OperateState.is_admin,
        page_frame("limits.title", limits_panel()),
        loading_screen(),
    )
