"""Chat over Server-Sent Events: ``GET /api/chat/stream`` and ``POST /api/chat``.

Events, in order: ``event: conversation`` (ids and title), the reply as ``data:
{"text": ...}`` pieces, ``event: error`` if it failed, ``event: end`` (how it ended), and
``data: [DONE]``. A client that disconnects stops the provider call; the partial reply is
saved as ``interrupted``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import Session

from llm_chat.api.deps import CurrentUser, Language
from llm_chat.api.schemas import MAX_ID, ChatIn, error_responses, sse_event_schema
from llm_chat.api.streaming import DONE, EventStreamResponse, ReplyRunner, sse_event
from llm_chat.db import run_short_in_session
from llm_chat.i18n import translate
from llm_chat.services import catalog, chat
from llm_chat.services.chat import MAX_MESSAGE_CHARS

router = APIRouter(
    prefix="/api/chat",
    tags=["chat"],
    responses={
        **error_responses(401, 403, 404, 422, streaming=True),
        200: {
            "description": "The reply as Server-Sent Events",
            "content": {
                "text/event-stream": {
                    "schema": sse_event_schema(
                        ["conversation", "error", "end"],
                        "JSON: the conversation's ids (`conversation`), a piece of the reply "
                        '(`{"text": ...}`), a failure (`error`), how the reply ended (`end`); '
                        "then `[DONE]`",
                    )
                }
            },
            "headers": {
                "X-Conversation-ID": {
                    "description": "The conversation the reply belongs to",
                    "schema": {"type": "integer"},
                }
            },
        },
    },
)


def _begin(
    *, session: Session, user_id: int, conversation_id: int | None, model: str, text: str
) -> chat.Turn:
    model_id = catalog.find_enabled_model(session=session, ref=model).id
    return chat.begin_turn(
        session=session,
        user_id=user_id,
        conversation_id=conversation_id,
        model_id=model_id,
        text=text,
    )


async def _events(runner: ReplyRunner, language: str) -> AsyncGenerator[bytes, None]:
    turn = runner.turn
    yield sse_event(
        {
            "conversation_id": turn.conversation_id,
            "created": turn.created_conversation,
            "title": turn.title,
            "user_message_id": turn.user_message_id,
            "reply_message_id": turn.reply_message_id,
            "model_id": turn.target.model_id,
        },
        event="conversation",
    )
    async for piece in runner.pieces():
        yield sse_event({"text": piece})
    outcome = await runner.outcome()
    if outcome.error:
        message = translate(language, outcome.error)
        yield sse_event({"code": outcome.error, "message": message}, event="error")
    end: dict[str, Any] = {
        "status": outcome.status.value,
        "reply_message_id": turn.reply_message_id,
    }
    yield sse_event(end, event="end")
    yield DONE


async def _stream(
    user_id: int, conversation_id: int | None, model: str, text: str, language: str
) -> EventStreamResponse:
    turn = await run_short_in_session(
        _begin, user_id=user_id, conversation_id=conversation_id, model=model, text=text
    )
    runner = ReplyRunner(turn)
    return EventStreamResponse(
        _events(runner, language),
        runner=runner,
        headers={"X-Conversation-ID": str(turn.conversation_id)},
    )


@router.get("/stream", status_code=200, response_class=EventStreamResponse)
async def stream(
    user: CurrentUser,
    language: Language,
    message: Annotated[str, Query(min_length=1, max_length=MAX_MESSAGE_CHARS)],
    conversation_id: Annotated[
        str,
        Query(
            pattern=r"^[0-9]{0,10}$",
            description="Empty: start a new conversation (its id comes back in "
            "`X-Conversation-ID` and the first event)",
        ),
    ] = "",
    model: Annotated[
        str, Query(max_length=300, description="A model's id or name; empty: the default")
    ] = "",
) -> EventStreamResponse:
    """Send ``message`` and stream the reply (for short messages; see ``POST /api/chat``)."""
    cid = int(conversation_id) if conversation_id else None
    if cid is not None and not 1 <= cid <= MAX_ID:
        cid = 0  # names no conversation: answered 404 like any other
    return await _stream(user.id, cid, model, message, language)


@router.post(
    "",
    status_code=200,
    response_class=EventStreamResponse,
    responses=error_responses(400, 413, streaming=True),
)
async def send(body: ChatIn, user: CurrentUser, language: Language) -> EventStreamResponse:
    """Like ``GET /api/chat/stream``, with the message in a JSON body (for long messages)."""
    return await _stream(user.id, body.conversation_id, body.model, body.message, language)
