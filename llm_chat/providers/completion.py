"""The parts of an OpenAI-style chat completion the app uses: text, reasoning, usage, errors.

Read straight from the JSON (see :func:`llm_chat.providers.client.stream_pieces` for why the
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


def _parts_in(part: object) -> tuple[str, str]:
    """The ``content`` and the reasoning of a message or delta, ``""`` for what is missing.

    The reasoning is ``reasoning_content`` (DeepSeek, Qwen, vLLM before 0.11) or, when that
    is absent or null, ``reasoning`` (vLLM since 0.11, which dropped ``reasoning_content``;
    OpenRouter). A server sending both during vLLM's transition is read once.
    """
    if not isinstance(part, dict):
        return "", ""
    text = part.get("content")
    reasoning = part.get("reasoning_content")
    if reasoning is None:
        reasoning = part.get("reasoning")
    return (
        text if isinstance(text, str) else "",
        reasoning if isinstance(reasoning, str) else "",
    )


def _parts_of(
    data: str | bytes, part: str, request: httpx2.Request, stats: StreamStats | None
) -> tuple[str, str]:
    """``choices[0][part]``'s text and reasoning; records usage; raises its error."""
    document = _json_object(data, request)
    if document is None:
        return "", ""
    _raise_error_in(document, request)
    _record_usage(document, stats)
    return _parts_in(_first_choice(document, stats).get(part))


def completion_parts(
    data: bytes, request: httpx2.Request, stats: StreamStats | None
) -> tuple[str, str]:
    """The text and reasoning of a whole (not streamed) completion; records usage; raises its
    error."""
    return _parts_of(data, "message", request, stats)


def streamed_parts(
    data: str, request: httpx2.Request, stats: StreamStats | None
) -> tuple[str, str]:
    """The text and reasoning of one streamed chunk; records usage in ``stats``; raises an
    in-stream error."""
    return _parts_of(data, "delta", request, stats)
