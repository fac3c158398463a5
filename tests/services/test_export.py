"""Exporting a conversation as Markdown or JSON, for its owner only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.errors import NotFoundError
from llm_chat.models import MessageStatus
from llm_chat.services.export import ExportFormat, export_conversation
from tests.support.factories import make_model, make_user, save_turns


def _conversation(user_id: int, model_id: int) -> int:
    return save_turns(
        user_id,
        model_id,
        [("Name a tea 🍵\nwith two lines", "Sencha.")],
        status=MessageStatus.STOPPED,
    )


def _export(user_id: int, conversation_id: int, fmt: ExportFormat, language: str = "en") -> str:
    with session_scope() as session:
        return export_conversation.within(
            session,
            user_id=user_id,
            conversation_id=conversation_id,
            export_format=fmt,
            language=language,
        ).content


def test_markdown_reads_like_the_chat(app_db: Engine) -> None:
    user = make_user()
    model_id = make_model("http://127.0.0.1:9/v1", "tea-model")
    conversation_id = _conversation(user.id, model_id)
    text = _export(user.id, conversation_id, ExportFormat.MARKDOWN)
    assert text.startswith("# Name a tea 🍵 with two lines\n")
    assert "## You · " in text
    assert "Name a tea 🍵\nwith two lines" in text
    assert "## Assistant (tea-model) · " in text
    assert "Sencha.\n\n> Stopped" in text
    chinese = _export(user.id, conversation_id, ExportFormat.MARKDOWN, "zh-CN")
    assert "## 你 · " in chinese


def test_json_keeps_every_field(app_db: Engine) -> None:
    user = make_user()
    model_id = make_model("http://127.0.0.1:9/v1", "tea-model")
    conversation_id = _conversation(user.id, model_id)
    document = json.loads(_export(user.id, conversation_id, ExportFormat.JSON))
    assert document["id"] == conversation_id
    assert document["title"] == "Name a tea 🍵 with two lines"
    assert [(m["role"], m["content"], m["status"], m["model"]) for m in document["messages"]] == [
        ("user", "Name a tea 🍵\nwith two lines", "complete", None),
        ("assistant", "Sencha.", "stopped", "tea-model"),
    ]
    assert document["messages"][0]["created_at"].endswith("Z")


def test_only_the_owner_can_export(app_db: Engine) -> None:
    owner, other = make_user(), make_user()
    model_id = make_model("http://127.0.0.1:9/v1")
    conversation_id = _conversation(owner.id, model_id)
    for fmt in ExportFormat:
        with pytest.raises(NotFoundError):
            _export(other.id, conversation_id, fmt)
