"""A conversation as a file: Markdown to read, JSON to process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from llm_chat.i18n import translate
from llm_chat.models import ChatModel, MessageRole, MessageStatus
from llm_chat.models.base import utcnow
from llm_chat.services.conversations import MessageView, get_summary, list_messages

# How a message that did not end normally is marked in Markdown.
_STATUS_KEYS = {
    MessageStatus.STOPPED: "chat.status_stopped",
    MessageStatus.INTERRUPTED: "chat.status_interrupted",
    MessageStatus.STREAMING: "chat.status_streaming",
    MessageStatus.ERROR: "chat.status_error",
}


class ExportFormat(StrEnum):
    """The formats a conversation can be exported in."""

    MARKDOWN = "markdown"
    JSON = "json"


@dataclass(frozen=True)
class ExportFile:
    """An exported conversation, ready to download."""

    filename: str
    media_type: str
    content: str


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def _model_names(session: Session, messages: list[MessageView]) -> dict[int, str]:
    ids = {m.model_id for m in messages if m.model_id is not None}
    if not ids:
        return {}
    rows = session.exec(
        select(ChatModel.id, ChatModel.display_name).where(col(ChatModel.id).in_(ids))
    ).all()
    return {model_id: name for model_id, name in rows if model_id is not None}


def _markdown(
    title: str, messages: list[MessageView], models: dict[int, str], language: str
) -> str:
    lines = [f"# {title}", "", f"_{_iso(utcnow())}_", ""]
    for message in messages:
        if message.role == MessageRole.USER:
            who = translate(language, "chat.you")
        else:
            who = translate(language, "chat.assistant")
            if message.model_id in models:
                who += f" ({models[message.model_id]})"
        lines += [f"## {who} · {_iso(message.created_at)}", ""]
        if message.content:
            lines += [message.content.rstrip("\n"), ""]
        status_key = _STATUS_KEYS.get(MessageStatus(message.status))
        if status_key:
            note = translate(language, status_key)
            if message.error:
                note += " " + translate(language, message.error)
            lines += [f"> {note}", ""]
    return "\n".join(lines)


def _json(
    conversation_id: int,
    title: str,
    messages: list[MessageView],
    models: dict[int, str],
) -> str:
    document = {
        "id": conversation_id,
        "title": title,
        "exported_at": _iso(utcnow()),
        "messages": [
            {
                "id": m.id,
                "role": m.role,
                "content": m.content,
                "status": m.status,
                "error": m.error,
                "model": models.get(m.model_id) if m.model_id is not None else None,
                "created_at": _iso(m.created_at),
            }
            for m in messages
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_conversation(
    *,
    session: Session,
    user_id: int,
    conversation_id: int,
    export_format: ExportFormat,
    language: str = "en",
) -> ExportFile:
    """The whole conversation in ``export_format``; Markdown labels are in ``language``.

    Raises:
        NotFoundError: not the user's conversation.
    """
    summary = get_summary(session=session, user_id=user_id, conversation_id=conversation_id)
    messages = list_messages(session=session, user_id=user_id, conversation_id=conversation_id)
    models = _model_names(session, messages)
    if export_format == ExportFormat.JSON:
        return ExportFile(
            filename=f"conversation-{conversation_id}.json",
            media_type="application/json",
            content=_json(conversation_id, summary.title, messages, models),
        )
    return ExportFile(
        filename=f"conversation-{conversation_id}.md",
        media_type="text/markdown; charset=utf-8",
        content=_markdown(summary.title, messages, models, language),
    )
