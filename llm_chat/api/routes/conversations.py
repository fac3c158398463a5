"""The caller's conversations: list, read, rename, delete, export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from llm_chat.api.deps import CurrentUser, Language
from llm_chat.api.schemas import (
    MAX_ID,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    MessageOut,
    RenameIn,
    as_utc,
    error_responses,
)
from llm_chat.services import conversations
from llm_chat.services.conversations import ConversationSummary
from llm_chat.services.export import ExportFormat, export_conversation

router = APIRouter(
    prefix="/api/conversations", tags=["conversations"], responses=error_responses(401, 403, 422)
)
ConversationId = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND = error_responses(404)


def _out(summary: ConversationSummary) -> ConversationOut:
    return ConversationOut(
        id=summary.id,
        title=summary.title,
        model_id=summary.model_id,
        updated_at=as_utc(summary.updated_at),
    )


@router.get("")
async def list_conversations(
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    q: Annotated[str, Query(max_length=200, description="Only titles containing this")] = "",
) -> ConversationPage:
    """The caller's conversations, most recently active first."""
    rows = await conversations.list_conversations(
        user_id=user.id, limit=limit + 1, offset=offset, search=q
    )
    return ConversationPage(
        items=[_out(row) for row in rows[:limit]],
        limit=limit,
        offset=offset,
        has_more=len(rows) > limit,
    )


@router.get("/{conversation_id}", responses=NOT_FOUND)
async def get_conversation(
    conversation_id: ConversationId,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> ConversationDetail:
    """The conversation with its latest ``limit`` messages (older ones: ``before_id``)."""
    summary = await conversations.get_summary(user_id=user.id, conversation_id=conversation_id)
    views = await conversations.list_messages(
        user_id=user.id,
        conversation_id=conversation_id,
        limit=limit + 1,
        before_id=before_id,
    )
    has_more = len(views) > limit
    return ConversationDetail(
        **_out(summary).model_dump(),
        messages=[MessageOut.of(v) for v in views[-limit:]],
        has_more=has_more,
    )


@router.patch("/{conversation_id}", responses={**NOT_FOUND, **error_responses(400, 413)})
async def rename_conversation(
    conversation_id: ConversationId, body: RenameIn, user: CurrentUser
) -> ConversationOut:
    """Give the conversation a new title."""
    return _out(
        await conversations.rename_conversation(
            user_id=user.id, conversation_id=conversation_id, title=body.title
        )
    )


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_conversation(conversation_id: ConversationId, user: CurrentUser) -> Response:
    """Delete the conversation and all its messages."""
    await conversations.delete_conversation(user_id=user.id, conversation_id=conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{conversation_id}/export",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {
            "description": "The conversation as a file to download",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        },
    },
)
async def export(
    conversation_id: ConversationId,
    user: CurrentUser,
    language: Language,
    export_format: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.MARKDOWN,
) -> Response:
    """The whole conversation as Markdown (to read) or JSON (to process)."""
    exported = await export_conversation(
        user_id=user.id,
        conversation_id=conversation_id,
        export_format=export_format,
        language=language,
    )
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )
