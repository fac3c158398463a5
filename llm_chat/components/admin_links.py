"""Links between the admin pages."""

from __future__ import annotations

import reflex as rx

from llm_chat.state.locale import t
from llm_chat.state.operate import LIMITS_ROUTE, USAGE_ROUTE

ADMIN_PAGES = (
    ("/admin", "admin.title", "settings"),
    (USAGE_ROUTE, "usage.title", "chart-column"),
    (LIMITS_ROUTE, "limits.title", "gauge"),
)


def admin_links(current: str) -> rx.Component:
    """The admin pages other than ``current`` (a route)."""
    return rx.hstack(
        *[
            rx.link(
                rx.hstack(rx.icon(icon, size=16), t(key), spacing="1", align="center"), href=route
            )
            for route, key, icon in ADMIN_PAGES
            if route != current
        ],
        spacing="5",
        id="admin-links",
    )
