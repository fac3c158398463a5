"""What goes in and out of the /api routes (the OpenAI shapes are in ``openai_schemas``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from llm_chat.models import MessageRole, MessageStatus
from llm_chat.models.conversation import TITLE_MAX_LENGTH
from llm_chat.services.conversations import MessageView
from llm_chat.services.turn_plan import MAX_MESSAGE_CHARS
from llm_chat.services.users import MAX_DISPLAY_NAME, MAX_PASSWORD_LENGTH, UserInfo

# Ids are 32-bit on every backend; larger numbers can name nothing.
MAX_ID = 2**31 - 1


def as_utc(moment: datetime) -> datetime:
    """A stored (naive, UTC) time marked as UTC, so clients see the zone."""
    return moment.replace(tzinfo=UTC)


class FieldError(BaseModel):
    """One invalid part of a request."""

    loc: list[str]
    msg: str


class ErrorOut(BaseModel):
    """Every /api error: a readable message in the caller's language and a stable code."""

    detail: str = Field(examples=["This conversation does not exist or is not yours."])
    code: str = Field(examples=["error.conversation_not_found"])
    errors: list[FieldError] | None = None


def sse_event_schema(events: list[str], data: str) -> dict[str, Any]:
    """How one Server-Sent Event of a stream looks, for the OpenAPI document."""
    # Unnamed events are "message" events.
    event: dict[str, Any] = {"type": "string", "enum": ["message", *events]}
    return {
        "type": "object",
        "properties": {"event": event, "data": {"type": "string", "description": data}},
        "required": ["data"],
    }


def error_responses(*statuses: int, streaming: bool = False) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a route.

    ``streaming``: for routes whose success is an event stream, so that the errors are
    still documented as JSON.
    """
    descriptions = {
        400: "The body cannot be read (not UTF-8)",
        401: "No, a malformed, expired or revoked token",
        403: "The account is disabled",
        404: "No such conversation, or not yours",
        413: "The request body is too large",
        422: "Invalid input",
        429: "Over a limit (messages a minute, tokens a day, replies at once); "
        "`Retry-After` says when to try again where that is known",
    }
    if streaming:
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        return {s: {"description": descriptions[s], "content": content} for s in statuses}
    return {s: {"model": ErrorOut, "description": descriptions[s]} for s in statuses}


class TokenIn(BaseModel):
    """Credentials for a sign-in token."""

    email: str = Field(max_length=255, examples=["you@example.com"])
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class TokenOut(BaseModel):
    """A sign-in token: send it as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (the scheme's name, not a secret)
    expires_in: int = Field(description="Seconds until the token expires")


class UserOut(BaseModel):
    """The signed-in user."""

    id: int
    email: str
    display_name: str
    role: Literal["admin", "user"]

    @classmethod
    def of(cls, user: UserInfo) -> UserOut:
        """The user as the API shows it (never the password hash or token version)."""
        return cls(
            id=user.id, email=user.email, display_name=user.display_name, role=user.role.value
        )


class ProfileIn(BaseModel):
    """A change of the user's own profile."""

    display_name: str = Field(max_length=MAX_DISPLAY_NAME, examples=["Ada Lovelace"])


class PasswordIn(BaseModel):
    """A new password, with the current one."""

    current_password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class ModelOut(BaseModel):
    """A model the caller may chat with."""

    id: int
    name: str = Field(description="The name users see; also accepted as `model`")
    provider: str
    model_name: str = Field(description="The provider's id for the model")
    is_default: bool


class ConversationOut(BaseModel):
    """A conversation as listed."""

    id: int
    title: str
    model_id: int | None
    updated_at: datetime


class ConversationPage(BaseModel):
    """A page of conversations, newest first."""

    items: list[ConversationOut]
    limit: int
    offset: int
    has_more: bool


class MessageOut(BaseModel):
    """A stored message; ``status`` says how a reply ended."""

    id: int
    role: MessageRole
    content: str
    status: MessageStatus
    error: str | None = Field(description="A code such as `provider.timeout`, when it failed")
    reasoning_content: str = Field(
        description="A reasoning model's thinking before its answer (empty for other models)"
    )
    model_id: int | None
    model: str = Field(description="The model that wrote the reply, as it was named then")
    provider: str = Field(description="The provider that served it, as it was named then")
    context_dropped: int = Field(
        description="How many earlier messages were left out of the reply's context to fit "
        "the model's context window"
    )
    created_at: datetime

    @classmethod
    def of(cls, view: MessageView) -> MessageOut:
        """A stored message as the API returns it."""
        return cls(
            id=view.id,
            role=view.role,
            content=view.content,
            status=view.status,
            error=view.error,
            reasoning_content=view.reasoning,
            model_id=view.model_id,
            model=view.model_name,
            provider=view.provider_name,
            context_dropped=view.context_dropped,
            created_at=as_utc(view.created_at),
        )


class ConversationDetail(ConversationOut):
    """A conversation with a page of its messages (the latest, oldest first)."""

    messages: list[MessageOut]
    has_more: bool = Field(
        description="Whether older messages exist: ask again with `before_id` = first id"
    )


class RenameIn(BaseModel):
    """A new title."""

    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)


class ChatIn(BaseModel):
    """One message to send; the reply streams back as Server-Sent Events."""

    conversation_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Empty or null: start a new conversation"
    )
    model: str = Field(
        default="",
        max_length=300,
        description="A model's id, name or provider model id; empty: the conversation's "
        "model (the default model for a new conversation)",
    )
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
