"""Chat over Server-Sent Events: ``GET /api/chat/stream`` and ``POST /api/chat``.

Events, in order: ``event: conversation`` (ids, title, the model and provider), the reply
as ``data: {"text": ...}`` pieces (a reasoning model's thinking as ``data:
{"reasoning_content": ...}`` pieces), ``event: error`` if it failed, ``event: end`` (how it
ended, and how much of the conversation fitted the model's context window), and ``data:
[DONE]``. A client that disconnects stops the provider call; the partial reply is saved as
``interrupted``. ``POST /api/chat/{conversation_id}/stop`` stops a reply from anywhere.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from llm_chat.api.deps import CurrentUser, Language
from llm_chat.api.schemas import MAX_ID, ChatIn, error_responses, sse_event_schema
from llm_chat.api.streaming import DONE, EventStreamResponse, sse_event
from llm_chat.errors import NotFoundError
from llm_chat.i18n import translate
from llm_chat.services import turns
from llm_chat.services.turn_plan import MAX_MESSAGE_CHARS
from llm_chat.services.turns import RunningTurn

router = APIRouter(
    prefix="/api/chat",
    tags=["chat"],
    responses={
        **error_responses(401, 403, 404, 422, 429, streaming=True),
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


def turn_event(turn: RunningTurn) -> dict[str, Any]:
    """What the ``conversation`` event says of a started turn."""
    rows, plan = turn.rows, turn.plan
    return {
        "conversation_id": rows.conversation_id,
        "created": rows.created_conversation,
        "title": plan.title,
        "user_message_id": rows.user_message_id,
        "reply_message_id": rows.reply_message_id,
        "model_id": plan.target.model_id,
        "model": plan.target.display_name,
        "provider": plan.target.provider_name,
    }


def context_note(turn: RunningTurn) -> dict[str, int]:
    """How the conversation was fitted into the model's context window."""
    return {
        "dropped_messages": turn.plan.context_dropped,
        "prompt_tokens_estimate": turn.plan.prompt_tokens,
    }


async def _events(turn: RunningTurn, language: str) -> AsyncGenerator[bytes, None]:
    yield sse_event(turn_event(turn), event="conversation")
    async for batch in turn.batches():
        if batch.reasoning:
            yield sse_event({"reasoning_content": batch.reasoning})
        if batch.text:
            yield sse_event({"text": batch.text})
    outcome = await turn.outcome()
    if outcome.error:
        message = translate(language, outcome.error)
        yield sse_event({"code": outcome.error, "message": message}, event="error")
    end: dict[str, Any] = {
        "status": outcome.status.value,
        "reply_message_id": turn.reply_message_id,
        "context": context_note(turn),
    }
    yield sse_event(end, event="end")
    yield DONE


async def _stream(
    user_id: int, conversation_id: int | None, model: str, text: str, language: str
) -> EventStreamResponse:
    turn = await turns.start_turn(
        user_id=user_id, conversation_id=conversation_id, model=model or None, text=text
    )
    return EventStreamResponse(
        _events(turn, language),
        turn=turn,
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
        str,
        Query(
            max_length=300,
            description="A model's id or name; empty: the conversation's model (the default "
            "for a new conversation)",
        ),
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


@router.post(
    "/{conversation_id}/stop",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
)
async def stop(
    conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: CurrentUser
) -> Response:
    """Stop the reply streaming in the conversation (from this or any other client); what it
    said so far is saved as ``stopped``. 404 when none of yours is streaming there."""
    if not turns.stop_turns(user_id=user.id, conversation_id=conversation_id):
        raise NotFoundError("chat.nothing_streaming")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
