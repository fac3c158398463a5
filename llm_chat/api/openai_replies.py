"""A running reply, answered in OpenAI's format: whole (``stream: false``) or as chunks."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from fastapi.responses import JSONResponse, Response

from llm_chat.api.errors import openai_error, provider_status
from llm_chat.api.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    Choice,
    Usage,
    chunk,
)
from llm_chat.api.streaming import DONE, EventStreamResponse, ReplyRunner, sse_event
from llm_chat.i18n import translate
from llm_chat.models import MessageStatus
from llm_chat.providers import ChatMessage, StreamStats
from llm_chat.services import chat

# About four characters per token: the estimate used when a provider reports no usage.
CHARS_PER_TOKEN = 4


def estimate_usage(stats: StreamStats, messages: list[ChatMessage], text: str) -> Usage:
    """Token counts: the provider's, or estimated from the text when it reported none."""
    prompt = stats.prompt_tokens
    if prompt is None:
        prompt = sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 1
    completion = stats.completion_tokens
    if completion is None:
        completion = -(-len(text) // CHARS_PER_TOKEN)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _error_code(outcome: chat.ReplyOutcome) -> str:
    return outcome.error or "provider.unknown"


@dataclass
class OpenAIReply:
    """One chat completion: its id, the model named, and the reply that runs for it."""

    model: str
    messages: list[ChatMessage]
    runner: ReplyRunner
    stats: StreamStats
    language: str
    headers: dict[str, str]
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def _failure(self, outcome: chat.ReplyOutcome) -> JSONResponse:
        code = _error_code(outcome)
        status = provider_status(code, openai=True)
        return openai_error(status, code, translate(self.language, code))

    async def whole(self) -> Response:
        """Wait for the whole reply; a failure is an error response."""
        text = "".join([piece async for piece in self.runner.pieces()])
        outcome = await self.runner.outcome()
        if outcome.status != MessageStatus.COMPLETE:
            return self._failure(outcome)
        completion = ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[
                Choice(
                    message=AssistantMessage(content=text),
                    finish_reason=self.stats.finish_reason or "stop",
                )
            ],
            usage=estimate_usage(self.stats, self.messages, text),
        )
        return JSONResponse(completion.model_dump(), headers=self.headers)

    async def stream(self, *, include_usage: bool) -> Response:
        """The reply as ``chat.completion.chunk`` Server-Sent Events.

        A failure before any text is an error response with its HTTP status, so clients
        raise the matching error; a failure midway is an ``error`` event.
        """
        first = await self.runner.next_piece()
        if first is None:
            outcome = await self.runner.outcome()
            if outcome.status == MessageStatus.ERROR:
                return self._failure(outcome)
        return EventStreamResponse(
            self._events(first, include_usage), runner=self.runner, headers=self.headers
        )

    def _chunk(self, delta: dict[str, str], finish: str | None = None) -> bytes:
        return sse_event(chunk(self.id, self.created, self.model, delta, finish))

    async def _events(self, first: str | None, include_usage: bool) -> AsyncGenerator[bytes, None]:
        yield self._chunk({"role": "assistant", "content": ""})
        parts: list[str] = []
        piece = first
        while piece is not None:
            parts.append(piece)
            yield self._chunk({"content": piece})
            piece = await self.runner.next_piece()
        outcome = await self.runner.outcome()
        if outcome.status != MessageStatus.COMPLETE:
            code = _error_code(outcome)
            message = translate(self.language, code)
            error = {"message": message, "type": "api_error", "param": None, "code": code}
            yield sse_event({"error": error})
            return
        yield self._chunk({}, self.stats.finish_reason or "stop")
        if include_usage:
            final = chunk(self.id, self.created, self.model, {})
            final["choices"] = []
            usage = estimate_usage(self.stats, self.messages, "".join(parts))
            final["usage"] = usage.model_dump()
            yield sse_event(final)
        yield DONE
