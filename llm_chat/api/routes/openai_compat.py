"""The OpenAI-compatible gateway: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client can use the app with a personal API key as its key: the request goes to
the named model's provider and, unless the client sends ``store: false`` or the header
``X-LLM-Chat-Save: false``, the exchange is saved as a conversation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from llm_chat.api.deps import CurrentUser, Language
from llm_chat.api.openai_replies import OpenAIReply
from llm_chat.api.openai_schemas import (
    ChatCompletion,
    ChatCompletionIn,
    ModelCard,
    ModelList,
    OpenAIError,
)
from llm_chat.api.schemas import sse_event_schema
from llm_chat.providers import ChatMessage
from llm_chat.services import catalog, turns

router = APIRouter(
    prefix="/v1",
    tags=["openai-compatible"],
    responses={
        s: {"model": OpenAIError, "description": d}
        for s, d in {
            401: "No, a malformed or revoked key",
            403: "The account is disabled",
            422: "Invalid input",
        }.items()
    },
)


@router.get("/models")
async def list_models(user: CurrentUser) -> ModelList:
    """The models the caller may use; pass an ``id`` as ``model``."""
    return ModelList(
        data=[
            ModelCard(
                id=option.name,
                created=int(option.created_at.timestamp()) if option.created_at else 0,
                owned_by=option.provider,
            )
            for option in await catalog.list_enabled_models(role=user.role)
        ]
    )


def _messages(body: ChatCompletionIn) -> list[ChatMessage]:
    return [
        {
            "role": "system" if m.role == "developer" else m.role,  # type: ignore[typeddict-item]
            "content": m.text(),
        }
        for m in body.messages
    ]


@router.post(
    "/chat/completions",
    responses={
        200: {
            "model": ChatCompletion,
            "description": "The reply; with `stream: true`, chunks as Server-Sent Events",
            "content": {
                "text/event-stream": {
                    "schema": sse_event_schema(
                        [], "JSON: a `chat.completion.chunk` or an `error`; then `[DONE]`"
                    )
                }
            },
        },
        **{
            s: {"model": OpenAIError, "description": d}
            for s, d in {
                400: "The body cannot be read (not UTF-8)",
                404: "No enabled model of that name",
                413: "The request body is too large",
                429: "Over a limit of yours (`Retry-After` says when to try again where "
                "that is known), or the provider is rate-limiting",
                502: "The provider failed",
                504: "The provider did not answer in time",
            }.items()
        },
    },
)
async def create_chat_completion(
    body: ChatCompletionIn,
    user: CurrentUser,
    language: Language,
    x_llm_chat_save: Annotated[
        bool | None, Header(description="false: do not save this exchange")
    ] = None,
) -> Response:
    """Chat with a model as OpenAI's API does (``stream`` true or false)."""
    messages = _messages(body)
    store = body.store is not False and x_llm_chat_save is not False
    turn = await turns.start_gateway_turn(
        user_id=user.id,
        model=body.model,
        messages=messages,
        store=store,
        temperature=body.temperature,
        max_tokens=body.max_completion_tokens or body.max_tokens,
    )
    reply = OpenAIReply(
        model=body.model,
        turn=turn,
        language=language,
        headers={"X-Conversation-ID": str(turn.conversation_id)} if store else {},
    )
    if not body.stream:
        return await reply.whole()
    options = body.stream_options
    return await reply.stream(include_usage=options is not None and options.include_usage)
