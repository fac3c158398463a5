"""Streaming chat completions from an OpenAI-compatible endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import ssl
import threading
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, NamedTuple, TypedDict, cast

import aiohttp
import anyio
import httpx2
import openai

from llm_chat.providers.completion import completion_parts, streamed_parts
from llm_chat.providers.sse import SSEDecoder

MAX_CACHED_CLIENTS = 32
# Ollama and vLLM accept any key; the SDK refuses an empty one.
PLACEHOLDER_API_KEY = "not-needed"
# How long to read on after ``[DONE]`` for the connection to be reused.
DRAIN_SECONDS = 1.0
# Endpoints and models known to refuse ``stream_options``: per process, at most this many.
MAX_REMEMBERED_REFUSALS = 1000
_refuses_usage: set[tuple[str, str]] = set()


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
    # The provider's name (recorded with each reply) and the tokens the model accepts.
    provider_name: str = ""
    context_window: int = 8192
    top_p: float | None = None
    # Headers the provider gets with every request (may hold secrets, like the key).
    extra_headers: tuple[tuple[str, str], ...] = ()
    # Seconds to wait for the provider (None: the caller's ``provider_timeout``).
    timeout: float | None = None
    # Whether the model thinks before it answers (streams ``reasoning_content``).
    is_reasoning: bool = False
    # What a million prompt (input) and reply (output) tokens cost; None: unknown.
    price_input: Decimal | None = None
    price_output: Decimal | None = None

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


class Piece(NamedTuple):
    """What one read of the provider's stream brought: answer text and reasoning (thinking).

    Either may be empty, never both.
    """

    text: str
    reasoning: str


class _ClientPool(threading.local):
    """``AsyncOpenAI`` clients per endpoint and key, over one shared HTTP connection pool.

    The connection pool is the SDK's aiohttp transport (``openai.DefaultAioHttpClient``):
    reading a stream costs well under half the CPU per token of the default httpx transport
    (148 against 60 ms per 1000 tokens, 100 streams at 20 ms/token on the bench machine). It
    is made once per event loop (loading the SSL context then, not on a user's first message)
    and serves every provider: base URL, key and timeout go with each request. Per thread,
    because each thread runs its own loop.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx2.AsyncClient | None = None
        self._clients: OrderedDict[str, openai.AsyncOpenAI] = OrderedDict()

    def http_client(self) -> httpx2.AsyncClient:
        """The connection pool of the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            # Clients of an earlier loop are unusable here: their connections belonged to it.
            self._clients.clear()
            self._http = openai.DefaultAioHttpClient()
            self._loop = loop
        return self._http

    def get(
        self,
        base_url: str,
        api_key: str,
        timeout: float,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> openai.AsyncOpenAI:
        """The client of one endpoint, key and headers (cheap to make: the connections are
        shared)."""
        http = self.http_client()
        key = hashlib.sha256(json.dumps([base_url, api_key, timeout, headers]).encode()).hexdigest()
        client = self._clients.get(key)
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=base_url,
                api_key=api_key or PLACEHOLDER_API_KEY,
                timeout=httpx2.Timeout(timeout, connect=10.0),
                max_retries=1,
                default_headers=dict(headers) or None,
                http_client=http,
            )
            self._clients[key] = client
            while len(self._clients) > MAX_CACHED_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return client

    async def aclose(self) -> None:
        """Close the running loop's connections (if it has any)."""
        http = self._http
        if http is not None and self._loop is asyncio.get_running_loop():
            self._http, self._loop = None, None
            self._clients.clear()
            await http.aclose()


_pool = _ClientPool()


async def close_connections() -> None:
    """Close the provider connections of the running event loop."""
    await _pool.aclose()


@contextlib.asynccontextmanager
async def provider_connections() -> AsyncIterator[None]:
    """The app's lifespan: open the provider connection pool at start-up, close it at the end."""
    _pool.http_client()
    try:
        yield
    finally:
        await close_connections()


def client_for(target: ModelTarget, provider_timeout: float = 60.0) -> openai.AsyncOpenAI:
    """The SDK client that calls ``target``'s provider (its own timeout, else
    ``provider_timeout``)."""
    return _pool.get(
        target.base_url, target.api_key, target.timeout or provider_timeout, target.extra_headers
    )


async def stream_pieces(
    target: ModelTarget,
    messages: list[ChatMessage],
    *,
    provider_timeout: float = 60.0,
    stats: StreamStats | None = None,
    answered: asyncio.Event | None = None,
) -> AsyncGenerator[Piece, None]:
    """Send ``messages`` (all of them: the system prompt is the caller's) to ``target`` and
    yield the reply as the provider streams it, a :class:`Piece` per read of the body.

    A reasoning model's thinking (``delta.reasoning_content``, or ``delta.reasoning``) comes
    in ``Piece.reasoning``, its answer (``delta.content``) in ``Piece.text``; a read holding
    both yields one piece with both. A server that ignored ``stream`` and sent one JSON
    completion yields one piece with its whole text and reasoning.

    The request goes through the SDK (base URL, authentication, timeouts, retries; status
    errors become ``openai.APIStatusError`` subclasses), but the event stream is read as raw
    bytes and only each event's ``choices[0].delta`` text and reasoning are picked out of its
    JSON: building the SDK's typed chunk objects took over half of the app's CPU with 100
    users streaming (``make bench``). The events of one read of the body are joined into one
    piece.

    Closing the generator early (``aclose``) closes the HTTP response, so the provider
    stops generating. With ``stats``, token usage is asked for (``stream_options``; a server
    that refuses the option is asked again without it) and recorded there with the finish
    reason. ``answered`` is set once the provider has
    answered the request (status and headers), before its first token.

    Raises:
        openai.OpenAIError: whatever the provider or the network did; see
            :func:`llm_chat.providers.errors.classify_provider_error`.
    """
    client = client_for(target, provider_timeout)
    body: dict[str, Any] = {
        "model": target.model_name,
        "messages": messages,
        "stream": True,
    }
    if target.temperature is not None:
        body["temperature"] = target.temperature
    if target.top_p is not None:
        body["top_p"] = target.top_p
    if target.max_tokens is not None:
        body["max_tokens"] = target.max_tokens
    endpoint = (target.base_url, target.model_name)
    if stats is not None and endpoint not in _refuses_usage:
        body["stream_options"] = {"include_usage": True}
    try:
        http = await _post(client, body)
    except openai.BadRequestError:
        if "stream_options" not in body:
            raise
        # Some servers refuse the option (400): ask again without it, and remember that for
        # this model if that works (the reply's usage is estimated then).
        del body["stream_options"]
        http = await _post(client, body)
        if len(_refuses_usage) >= MAX_REMEMBERED_REFUSALS:
            _refuses_usage.clear()
        _refuses_usage.add(endpoint)
    if answered is not None:
        answered.set()
    decoder = SSEDecoder()
    chunks = http.aiter_bytes()
    try:
        if not http.headers.get("content-type", "").startswith("text/event-stream"):
            # A server that ignored "stream": the whole completion as one JSON document.
            text, reasoning = completion_parts(await http.aread(), http.request, stats)
            if text or reasoning:
                yield Piece(text, reasoning)
            return
        async for chunk in chunks:
            texts: list[str] = []
            thoughts: list[str] = []
            done, failure = False, None
            for event in decoder.feed(chunk):
                if event.data.startswith("[DONE]"):
                    done = True
                    break
                try:
                    text, reasoning = streamed_parts(event.data, http.request, stats)
                except openai.APIError as exc:  # an error event: raised after the text before it
                    failure = exc
                    break
                if text:
                    texts.append(text)
                if reasoning:
                    thoughts.append(reasoning)
            if texts or thoughts:
                yield Piece("".join(texts), "".join(thoughts))
            if failure is not None:
                raise failure
            if done:
                await _drain(chunks)
                return
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=http.request) from exc
    except (httpx2.RequestError, aiohttp.ClientError, anyio.EndOfStream, ssl.SSLError) as exc:
        raise openai.APIConnectionError(request=http.request) from exc
    finally:
        await http.aclose()


async def _post(client: openai.AsyncOpenAI, body: dict[str, Any]) -> httpx2.Response:
    """Send the request; the response with its body left unread.

    The SDK's route for a raw response: no per-message type transform of the body (17 ms
    for a 100-message history), the body left for us to stream.
    """
    return cast(
        httpx2.Response,
        await client.post(
            "/chat/completions", cast_to=httpx2.Response, body=body, stream=True, stream_cls=None
        ),
    )


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows ``[DONE]`` (usually nothing), so the connection can be reused.

    The reply is whole by then: a failure here is not the reply's.
    """
    with contextlib.suppress(TimeoutError, httpx2.RequestError, anyio.EndOfStream, ssl.SSLError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in chunks:
                pass
