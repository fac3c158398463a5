"""The request and response shapes of OpenAI's chat completions API, as far as we serve it.

Fields OpenAI defines that we do not use are accepted and ignored, so any client works.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_chat.services.turn_plan import MAX_MESSAGE_CHARS

CHUNK_OBJECT = "chat.completion.chunk"


class TextPart(BaseModel):
    """A text part of a message's content."""

    model_config = ConfigDict(extra="allow")

    type: Literal["text"]
    text: str = Field(max_length=MAX_MESSAGE_CHARS)


class MessageIn(BaseModel):
    """One message of the conversation the client sends."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant"]
    content: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)] | list[TextPart] | None = None

    def text(self) -> str:
        """The content as plain text."""
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    """``stream_options``: whether to end a stream with a usage chunk."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionIn(BaseModel):
    """A chat completion request. ``store: false`` keeps it out of the conversations."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=300)
    messages: list[MessageIn] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    n: Literal[1] = 1
    store: bool | None = Field(
        default=None, description="false: do not save this exchange as a conversation"
    )


class Usage(BaseModel):
    """Token counts, as the provider reported them (estimated when it did not)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    dropped_messages: int = Field(
        default=0,
        description="How many of the earlier messages were left out to fit the model's "
        "context window (the oldest first; system messages are always kept)",
    )


class AssistantMessage(BaseModel):
    """The reply."""

    role: Literal["assistant"] = "assistant"
    content: str
    reasoning_content: str | None = Field(
        default=None, description="A reasoning model's thinking before its answer"
    )


class Choice(BaseModel):
    """The one reply of a completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: str


class ChatCompletion(BaseModel):
    """A whole reply (``stream: false``)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ModelCard(BaseModel):
    """A model, as ``GET /v1/models`` lists it."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorDetail(BaseModel):
    """What went wrong."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """Every /v1 error."""

    error: OpenAIErrorDetail


def chunk(
    completion_id: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` of a stream."""
    return {
        "id": completion_id,
        "object": CHUNK_OBJECT,
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
