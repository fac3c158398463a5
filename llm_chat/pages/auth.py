"""Sign-in and registration pages."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.auth_forms import register_form, sign_in_form


def login_page() -> rx.Component:
    """``/login``."""
    return sign_in_form()


def register_page() -> rx.Component:
    """``/register``."""
    return register_form()
