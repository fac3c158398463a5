"""The reader's language, and the UI's strings in it.

The translation tables are compiled into the page (``components/i18n.py``), not sent as
state: each tab would otherwise receive them on every connect (twice: before and after the
language is detected), and a switch of language would be a server round trip.
"""

from __future__ import annotations

import json

import reflex as rx

from llm_chat.i18n import DEFAULT_LANGUAGE, negotiate, normalize_language

#: Where the page keeps the tables (set by components.i18n.I18nTables).
I18N_GLOBAL = "globalThis.LLM_CHAT_I18N"


class LocaleState(rx.State):
    """Which language the UI speaks; follows the browser until the user picks one."""

    # The chosen language ("en" or "zh-CN"); empty until detected. Kept in localStorage.
    language: str = rx.LocalStorage("", name="llm_chat_language", sync=True)

    @rx.var
    def html_lang(self) -> str:
        """The language as a BCP 47 tag for the page."""
        return self.language or DEFAULT_LANGUAGE

    @rx.event
    def detect_language(self) -> None:
        """Pick the browser's language (Accept-Language) if none was chosen yet."""
        if not normalize_language(self.language):
            self.language = negotiate(self.router.headers.accept_language)

    @rx.event
    def set_language(self, language: str) -> None:
        """Switch the UI to ``language``."""
        self.language = normalize_language(language) or DEFAULT_LANGUAGE


def text_for(key: str | rx.Var[str]) -> rx.Var[str]:
    """The text for ``key`` (a key, or a var holding one) in the reader's language.

    Falls back to English, then to the key itself, as ``llm_chat.i18n.translate`` does.
    """
    # A Var formatted into an f-string carries the state it reads along (as in
    # rx.text(f"Hi {State.name}")), so the rx.Var made from this JavaScript reads it too.
    lang = LocaleState.html_lang
    key_js = f"{key}" if isinstance(key, rx.Var) else json.dumps(key)
    tables = I18N_GLOBAL
    return rx.Var(
        f"(({tables}?.[{lang}] ?? {{}})[{key_js}] ?? {tables}?.{DEFAULT_LANGUAGE}?.[{key_js}]"
        f" ?? {key_js})"
    ).to(str)


def t(key: str) -> rx.Var[str]:
    """The text for ``key`` in the reader's language, as a front-end var."""
    return text_for(key)
