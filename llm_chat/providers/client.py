"""Streaming chat completions from an OpenAI-compatible endpoint."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import httpx2
import openai

MAX_CACHED_CLIENTS = 32
# Ollama and vLLM accept any key; the SDK refuses an empty one.
PLACEHOLDER_API_KEY = "not-needed"


class ChatMessage(TypedDict):
    """One message as the provider receives it."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ModelTarget:
    """Everything needed to call one model. Holds the decrypted key: never log or send it."""

    model_id: int
    display_name: str
    base_url: str
    api_key: str
    model_name: str
    system_prompt: str = ""
    temperature: float | None = None
    max_tokens: int | None = None

    def __repr__(self) -> str:
        return f"ModelTarget(model_id={self.model_id}, model_name={self.model_name!r})"


@dataclass
class StreamStats:
    """What the provider reported about a streamed reply, filled in as the stream ends.

    Fields stay ``None`` when the provider does not report them.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None


class _ClientPool:
    """One ``AsyncOpenAI`` (and its connection pool) per endpoint and key."""

    def __init__(self) -> None:
        self._clients: OrderedDict[str, openai.AsyncOpenAI] = OrderedDict()

    def get(self, base_url: str, api_key: str, timeout: float) -> openai.AsyncOpenAI:
        key = hashlib.sha256(f"{base_url}\0{api_key}\0{timeout}".encode()).hexdigest()
        client = self._clients.get(key)
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=base_url,
                api_key=api_key or PLACEHOLDER_API_KEY,
                timeout=httpx2.Timeout(timeout, connect=10.0),
                max_retries=1,
            )
            self._clients[key] = client
            while len(self._clients) > MAX_CACHED_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return client


_pool = _ClientPool()


def build_messages(target: ModelTarget, history: list[ChatMessage]) -> list[ChatMessage]:
    """The messages sent to the provider: the model's system prompt, then the history."""
    if target.system_prompt.strip():
        return [{"role": "system", "content": target.system_prompt}, *history]
    return list(history)


async def stream_chat(
    target: ModelTarget,
    history: list[ChatMessage],
    *,
    provider_timeout: float = 60.0,
    stats: StreamStats | None = None,
) -> AsyncGenerator[str, None]:
    """Yield the reply's text pieces as the provider streams them.

    Closing the generator early (``aclose``) closes the HTTP response, so the provider
    stops generating. With ``stats``, token usage is asked for (``stream_options``) and
    recorded there with the finish reason.

    Raises:
        openai.OpenAIError: whatever the provider or the network did; see
            :func:`llm_chat.providers.errors.classify_provider_error`.
    """
    client = _pool.get(target.base_url, target.api_key, provider_timeout)
    params: dict[str, Any] = {}
    if target.temperature is not None:
        params["temperature"] = target.temperature
    if target.max_tokens is not None:
        params["max_tokens"] = target.max_tokens
    if stats is not None:
        params["stream_options"] = {"include_usage": True}
    stream = await client.chat.completions.create(
        model=target.model_name,
        messages=build_messages(target, history),  # type: ignore[arg-type]
        stream=True,
        **params,
    )
    try:
        async for chunk in stream:
            if stats is not None and chunk.usage is not None:
                stats.prompt_tokens = chunk.usage.prompt_tokens
                stats.completion_tokens = chunk.usage.completion_tokens
            if not chunk.choices:
                continue
            if stats is not None and chunk.choices[0].finish_reason:
                stats.finish_reason = chunk.choices[0].finish_reason
            text = chunk.choices[0].delta.content
            if text:
                yield text
    finally:
        await stream.close()
