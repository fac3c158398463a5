"""The translation tables, compiled into every page (see ``state/locale.text_for``)."""

from __future__ import annotations

import json

import reflex as rx

from llm_chat.i18n import TABLES
from llm_chat.state.locale import I18N_GLOBAL


class I18nTables(rx.Fragment):
    """Renders nothing; its page module sets the tables before anything renders."""

    def add_custom_code(self) -> list[str]:
        """``globalThis.LLM_CHAT_I18N = {"en": {...}, "zh-CN": {...}};``."""
        tables = json.dumps(TABLES, ensure_ascii=False, sort_keys=True)
        return [f"{I18N_GLOBAL} = {tables};"]


def with_i18n(render: rx.Component) -> rx.Component:
    """``render`` with the tables its strings are looked up in."""
    return rx.fragment(I18nTables.create(), render)
