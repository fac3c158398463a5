"""The reader's language."""

from __future__ import annotations

import reflex as rx

from llm_chat.i18n import DEFAULT_LANGUAGE, negotiate, normalize_language, table


class LocaleState(rx.State):
    """Which language the UI speaks; follows the browser until the user picks one."""

    # The chosen language ("en" or "zh-CN"); empty until detected. Kept in localStorage.
    language: str = rx.LocalStorage("", name="llm_chat_language", sync=True)

    @rx.var
    def strings(self) -> dict[str, str]:
        """The translation table of the current language (sent once per language)."""
        return table(self.language or DEFAULT_LANGUAGE)

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


def t(key: str) -> rx.Var[str]:
    """The text for ``key`` in the reader's language, as a front-end var."""
    return LocaleState.strings[key].to(str)
