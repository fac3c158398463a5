"""A running reply, answered in OpenAI's format: whole (``stream: false``) or as chunks."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
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
from llm_chat.api.streaming import DONE, EventStreamResponse, sse_event
from llm_chat.i18n import translate
from llm_chat.models import MessageStatus
from llm_chat.services import usage
from llm_chat.services.replies import Batch
from llm_chat.services.turns import ReplyOutcome, RunningTurn


def usage_of(turn: RunningTurn, outcome: ReplyOutcome) -> Usage:
    """Token counts as the turn recorded them: the provider's, or estimated when it
    reported none (see ``services/usage.py``)."""
    used = outcome.usage or usage.at_end(
        turn.plan.target,
        turn.stats,
        prompt_estimate=turn.plan.prompt_tokens,
        content=outcome.content,
        reasoning=outcome.reasoning,
    )
    return Usage(
        prompt_tokens=used.prompt_tokens,
        completion_tokens=used.completion_tokens,
        total_tokens=used.total_tokens,
        dropped_messages=turn.plan.context_dropped,
    )


def _error_code(outcome: ReplyOutcome) -> str:
    return outcome.error or "provider.unknown"


@dataclass
class OpenAIReply:
    """One chat completion: its id, the model named, and the reply that runs for it."""

    model: str
    turn: RunningTurn
    language: str
    headers: dict[str, str]
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def _failure(self, outcome: ReplyOutcome) -> JSONResponse:
        code = _error_code(outcome)
        status = provider_status(code, openai=True)
        return openai_error(status, code, translate(self.language, code))

    async def whole(self) -> Response:
        """Wait for the whole reply; a failure is an error response."""
        try:
            outcome = await self.turn.outcome()
        finally:
            await self.turn.close()  # the client left while it waited
        if outcome.status != MessageStatus.COMPLETE:
            return self._failure(outcome)
        completion = ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[
                Choice(
                    message=AssistantMessage(
                        content=outcome.content, reasoning_content=outcome.reasoning or None
                    ),
                    finish_reason=self.turn.stats.finish_reason or "stop",
                )
            ],
            usage=usage_of(self.turn, outcome),
        )
        return JSONResponse(completion.model_dump(), headers=self.headers)

    async def stream(self, *, include_usage: bool) -> Response:
        """The reply as ``chat.completion.chunk`` Server-Sent Events.

        A failure before any text is an error response with its HTTP status, so clients
        raise the matching error; a failure midway is an ``error`` event.
        """
        batches = self.turn.batches()
        first = await anext(batches, None)
        if first is None:
            outcome = await self.turn.outcome()
            if outcome.status == MessageStatus.ERROR:
                return self._failure(outcome)
        return EventStreamResponse(
            self._events(batches, first, include_usage), turn=self.turn, headers=self.headers
        )

    def _chunk(self, delta: dict[str, str], finish: str | None = None) -> bytes:
        return sse_event(chunk(self.id, self.created, self.model, delta, finish))

    async def _events(
        self, batches: AsyncIterator[Batch], first: Batch | None, include_usage: bool
    ) -> AsyncGenerator[bytes, None]:
        yield self._chunk({"role": "assistant", "content": ""})
        batch = first
        while batch is not None:
            if batch.reasoning:
                yield self._chunk({"reasoning_content": batch.reasoning})
            if batch.text:
                yield self._chunk({"content": batch.text})
            batch = await anext(batches, None)
        outcome = await self.turn.outcome()
        if outcome.status != MessageStatus.COMPLETE:
            code = _error_code(outcome)
            message = translate(self.language, code)
            error = {"message": message, "type": "api_error", "param": None, "code": code}
            yield sse_event({"error": error})
            return
        yield self._chunk({}, self.turn.stats.finish_reason or "stop")
        if include_usage:
            final = chunk(self.id, self.created, self.model, {})
            final["choices"] = []
            final["usage"] = usage_of(self.turn, outcome).model_dump()
            yield sse_event(final)
        yield DONE
