"""A conversation as a file: Markdown to read, JSON to process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from llm_chat.db import transaction
from llm_chat.i18n import translate
from llm_chat.models import MessageRole, MessageStatus
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


def _markdown(title: str, messages: list[MessageView], language: str) -> str:
    lines = [f"# {title}", "", f"_{_iso(utcnow())}_", ""]
    for message in messages:
        if message.role == MessageRole.USER:
            who = translate(language, "chat.you")
        else:
            who = translate(language, "chat.assistant")
            if message.model_name:
                who += f" ({message.model_name})"
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
                "model": m.model_name or None,
                "provider": m.provider_name or None,
                "reasoning_content": m.reasoning or None,
                "created_at": _iso(m.created_at),
            }
            for m in messages
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


@transaction
def export_conversation(
    session: Session,
    *,
    user_id: int,
    conversation_id: int,
    export_format: ExportFormat,
    language: str = "en",
) -> ExportFile:
    """The whole conversation in ``export_format``; Markdown labels are in ``language``.

    Raises:
        NotFoundError: not the user's conversation.
    """
    summary = get_summary.within(session, user_id=user_id, conversation_id=conversation_id)
    messages = list_messages.within(session, user_id=user_id, conversation_id=conversation_id)
    if export_format == ExportFormat.JSON:
        return ExportFile(
            filename=f"conversation-{conversation_id}.json",
            media_type="application/json",
            content=_json(conversation_id, summary.title, messages),
        )
    return ExportFile(
        filename=f"conversation-{conversation_id}.md",
        media_type="text/markdown; charset=utf-8",
        content=_markdown(summary.title, messages, language),
    )
