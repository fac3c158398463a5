"""The parts of an OpenAI-style chat completion the app uses: text, usage, errors.

Read straight from the JSON (see :func:`llm_chat.providers.client.stream_chat` for why the
SDK's typed objects are not built).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx2
import openai

if TYPE_CHECKING:
    from llm_chat.providers.client import StreamStats


def _json_object(data: str | bytes, request: httpx2.Request) -> dict[str, Any] | None:
    """``data`` parsed; an APIError if it is not JSON, None if it is not an object."""
    try:
        parsed = json.loads(data)
    except ValueError as exc:
        raise openai.APIError("The provider sent malformed JSON", request, body=None) from exc
    return parsed if isinstance(parsed, dict) else None


def _raise_error_in(chunk: dict[str, Any], request: httpx2.Request) -> None:
    error = chunk.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(message, str) or not message:
            message = "An error occurred during streaming"
        raise openai.APIError(message, request, body=error)


def _record_usage(chunk: dict[str, Any], stats: StreamStats | None) -> None:
    usage = chunk.get("usage")
    if stats is not None and isinstance(usage, dict):
        stats.prompt_tokens = usage.get("prompt_tokens")
        stats.completion_tokens = usage.get("completion_tokens")


def _first_choice(chunk: dict[str, Any], stats: StreamStats | None) -> dict[str, Any]:
    choices = chunk.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        return {}
    choice = choices[0]
    if stats is not None and choice.get("finish_reason"):
        stats.finish_reason = choice["finish_reason"]
    return choice


def _text_in(part: object) -> str | None:
    text = part.get("content") if isinstance(part, dict) else None
    return text if isinstance(text, str) else None


def _text_of(
    data: str | bytes, part: str, request: httpx2.Request, stats: StreamStats | None
) -> str | None:
    """``choices[0][part].content`` of a completion or chunk; records usage; raises its error."""
    document = _json_object(data, request)
    if document is None:
        return None
    _raise_error_in(document, request)
    _record_usage(document, stats)
    return _text_in(_first_choice(document, stats).get(part))


def completion_text(data: bytes, request: httpx2.Request, stats: StreamStats | None) -> str | None:
    """The text of a whole (not streamed) completion; records usage; raises its error."""
    return _text_of(data, "message", request, stats)


def streamed_text(data: str, request: httpx2.Request, stats: StreamStats | None) -> str | None:
    """The text of one streamed chunk; records usage in ``stats``; raises an in-stream error."""
    return _text_of(data, "delta", request, stats)
