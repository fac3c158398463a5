"""The one translation layer: every user-facing string is looked up here by key."""

from __future__ import annotations

from llm_chat.i18n.en import EN
from llm_chat.i18n.zh_cn import ZH_CN

DEFAULT_LANGUAGE = "en"
TABLES: dict[str, dict[str, str]] = {"en": EN, "zh-CN": ZH_CN}
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh-CN": "简体中文"}


def normalize_language(code: str) -> str:
    """A supported language for ``code`` (``zh``, ``zh-cn``, ``zh-Hans-CN`` -> ``zh-CN``)."""
    code = code.strip().lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-CN"
    if code.startswith("en"):
        return "en"
    return ""


def negotiate(accept_language: str) -> str:
    """The best supported language for an ``Accept-Language`` header."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = normalize_language(tag)
        if language and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def table(language: str) -> dict[str, str]:
    """The strings of ``language`` (English for an unknown one)."""
    return TABLES.get(language) or TABLES[DEFAULT_LANGUAGE]


def translate(language: str, key: str) -> str:
    """The text for ``key`` in ``language``; the key itself if it is missing everywhere."""
    return table(language).get(key) or TABLES[DEFAULT_LANGUAGE].get(key, key)
