"""Every user-facing string has an English and a Chinese text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import reflex as rx

from llm_chat.components.i18n import I18nTables
from llm_chat.i18n import TABLES, negotiate, translate
from llm_chat.models import AuditAction, AuditTarget, Role
from llm_chat.state.locale import I18N_GLOBAL, t, text_for

PACKAGE = Path(__file__).resolve().parent.parent / "llm_chat"
# t("key") in components, and codes passed to errors ("auth.x", "provider.x", ...).
KEY_PATTERN = re.compile(
    r"""["']((?:app|auth|chat|error|provider|admin|settings|api|limits|usage)\.[a-z_]+)["']"""
)
# Strings of that shape that are not translation keys: OpenAI's wire names, and the audit
# log's actions on providers (shown through "admin.act_*" keys).
NOT_KEYS = frozenset({"chat.completion", "provider.create", "provider.update", "provider.delete"})


def _keys_used_in_code() -> set[str]:
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "i18n" in path.parts or "models" in path.parts:  # models name SQL columns
            continue
        used.update(KEY_PATTERN.findall(path.read_text(encoding="utf-8")))
    return used - NOT_KEYS


def test_tables_have_the_same_keys_and_no_empty_text() -> None:
    english, chinese = TABLES["en"], TABLES["zh-CN"]
    assert set(english) == set(chinese)
    assert all(text.strip() for text in [*english.values(), *chinese.values()])


def test_every_key_used_in_the_code_is_translated() -> None:
    used = _keys_used_in_code()
    assert len(used) > 50
    # A key ending in "_" is the start of keys made at run time ("admin.role_" + role).
    missing = sorted(
        key
        for key in used
        if key not in TABLES["en"]
        and not (key.endswith("_") and any(k.startswith(key) for k in TABLES["en"]))
    )
    assert missing == []


def test_keys_made_at_run_time_are_translated() -> None:
    made = [
        *(f"admin.act_{action.value.replace('.', '_')}" for action in AuditAction),
        *(f"admin.target_{target.value}" for target in AuditTarget),
        *(f"admin.role_{role.value}" for role in Role),
    ]
    assert [key for key in made if key not in TABLES["en"]] == []


def test_chinese_table_is_really_chinese() -> None:
    translated = [k for k, v in TABLES["zh-CN"].items() if re.search(r"[\u4e00-\u9fff]", v)]
    assert len(translated) >= len(TABLES["zh-CN"]) - 2  # only names like "LLM" may stay


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,zh-TW;q=0.8,en;q=0.5", "zh-CN"),
        ("de-DE", "en"),
        ("", "en"),
        ("en;q=0.2,zh;q=0.8", "zh-CN"),
    ],
)
def test_language_follows_the_browser(header: str, language: str) -> None:
    assert negotiate(header) == language


def test_translate_falls_back_to_english() -> None:
    assert translate("fr", "chat.send") == "Send"
    assert translate("zh-CN", "chat.send") == "发送"


def test_pages_carry_both_tables_and_lookups_fall_back() -> None:
    [code] = I18nTables.create().add_custom_code()
    prefix = f"{I18N_GLOBAL} = "
    assert code.startswith(prefix)
    assert code.endswith(";")
    assert json.loads(code[len(prefix) : -1]) == TABLES
    lookup = str(t("chat.send"))
    assert '"chat.send"' in lookup
    assert f"{I18N_GLOBAL}?.en?." in lookup  # English, then the key, when a text is missing
    assert "html_lang" in str(text_for(rx.Var("error_key")))
