"""Loopback OpenAI-compatible fake LLM provider for tests and benchmarks.

The server speaks just enough of the OpenAI HTTP API (``POST /v1/chat/completions``
streaming and non-streaming, ``GET /v1/models``, ``POST /v1/embeddings``) for the official
``openai`` SDK to talk to it over real HTTP. It runs on ``127.0.0.1`` inside a background thread
with its own event loop, so it can be used from sync code, from async tests and
from other processes.

Replies are scripted with :class:`ReplySpec`, either through the Python API
(:meth:`FakeProvider.enqueue`, :attr:`FakeProvider.default`) or through options
encoded in the model id (``fake?tokens=1000&delay=0.02&first=0.3``), which lets a
separate app process pick a behaviour just by being configured with a model id.

A reply can think first, like a reasoning model (DeepSeek's ``deepseek-reasoner``, vLLM with
a reasoning parser): its reasoning tokens (:attr:`ReplySpec.reasoning`,
:attr:`ReplySpec.reasoning_token_count`, model id ``fake?reasoning=20&tokens=30``) stream as
``delta.reasoning_content`` chunks before the content, on the same schedule, and a whole
completion carries them in ``message.reasoning_content``.

Example:
    >>> with FakeProvider() as fp:
    ...     fp.enqueue(ReplySpec(text="Hello there", delay=0.01))
    ...     client = openai.OpenAI(base_url=fp.base_url, api_key="x")
    ...     ...

CLI (serves until Ctrl-C)::

    python -m tests.fake_provider --port 8011 [--delay 0.02] [--tokens 500] [--reasoning 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import dataclasses
import hashlib
import itertools
import json
import math
import re
import signal
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

__all__ = [
    "DEFAULT_MODELS",
    "EMBEDDING_DIMENSIONS",
    "GENERATED_TOKEN_BYTES",
    "FakeProvider",
    "RecordedRequest",
    "ReplySpec",
    "echo_text",
    "fake_embedding",
    "generated_reasoning_tokens",
    "generated_tokens",
    "main",
    "parse_model_options",
    "split_model_id",
    "split_tokens",
]

#: Model ids listed by ``GET /v1/models``.
DEFAULT_MODELS: tuple[str, ...] = ("fake-model", "fake-model-large", "fake-echo")

#: Words used by :func:`generated_tokens`; all exactly four ASCII letters.
_GEN_WORDS: tuple[str, ...] = (
    "lore",
    "ipsu",
    "dolo",
    "amet",
    "cons",
    "adip",
    "elit",
    "sedd",
    "temp",
    "inci",
    "labo",
    "magn",
    "aliq",
    "enim",
    "mini",
    "veni",
)

#: Words used by :func:`generated_reasoning_tokens`: four ASCII letters, none of them in
#: ``_GEN_WORDS``, so reasoning can be told from content wherever it ends up.
_REASONING_WORDS: tuple[str, ...] = (
    "hmmm",
    "thnk",
    "mull",
    "pndr",
    "wait",
    "chck",
    "redo",
    "sure",
)

#: UTF-8 byte length of every token produced by :func:`generated_tokens` and
#: :func:`generated_reasoning_tokens` (a leading space plus a four-letter word).
GENERATED_TOKEN_BYTES: int = 5

_TOKEN_RE = re.compile(r"\s*\S+")

_ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
}

_SSE_HEADERS: dict[str, str] = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}

_DONE = b"data: [DONE]\n\n"


# --------------------------------------------------------------------------- #
# Reply scripting
# --------------------------------------------------------------------------- #


@dataclass
class ReplySpec:
    """Script for one fake completion.

    Token source precedence: ``tokens`` > ``token_count`` > ``text`` > echo of the
    last user message (``"Echo: <content>"``). Reasoning, sent before the content:
    ``reasoning_token_count`` > ``reasoning`` > none.

    Attributes:
        text: Reply text, split into word tokens by :func:`split_tokens`.
        tokens: Explicit list of tokens sent verbatim, one per chunk.
        token_count: Generate a deterministic reply of this many tokens, each
            :data:`GENERATED_TOKEN_BYTES` UTF-8 bytes (see :func:`generated_tokens`).
        delay: Seconds between consecutive tokens. Tokens are scheduled on an
            absolute clock (``start + first_token_delay + i * delay``), so there
            is no drift over long replies.
        first_token_delay: Seconds from request arrival to the first token.
        status: When set to a value >= 400, respond with that HTTP status and an
            OpenAI-style error body instead of a completion.
        error_message: Message used for ``status`` and ``error_after`` errors.
        error_type: Overrides the ``error.type`` field of the error body.
        error_code: Overrides the ``error.code`` field of the error body.
        reasoning: Reasoning text, split into word tokens by :func:`split_tokens`, streamed
            as ``delta.reasoning_content`` chunks (``content`` null) before the content;
            counted in ``usage.completion_tokens``, not cut by the request's ``max_tokens``.
        reasoning_token_count: Generate this many deterministic reasoning tokens (see
            :func:`generated_reasoning_tokens`) instead.
        reasoning_field: Name of the reasoning field: ``"reasoning_content"`` (DeepSeek,
            older vLLM) or ``"reasoning"`` (vLLM since 0.11, OpenRouter).
        drop_after: Send this many tokens (reasoning tokens first, then content
            tokens), then abort the TCP connection (no finish chunk, no ``[DONE]``).
        error_after: Send this many tokens (reasoning, then content), then an
            in-stream ``data: {"error": {...}}`` event and end the response.
        headers: Extra response headers (e.g. ``{"retry-after-ms": "0"}``).
        headers_delay: Seconds from request arrival until the status and headers are
            sent (a provider that answers only when its first token is ready); the
            tokens keep their schedule.
    """

    text: str | None = None
    tokens: list[str] | None = None
    token_count: int | None = None
    delay: float = 0.0
    first_token_delay: float = 0.0
    status: int | None = None
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    drop_after: int | None = None
    error_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    headers_delay: float = 0.0
    reasoning: str | None = None
    reasoning_token_count: int | None = None
    reasoning_field: str = "reasoning_content"

    def resolve_tokens(self, body: dict[str, Any] | None = None) -> list[str]:
        """Return the full list of content tokens for this spec.

        Args:
            body: Parsed request body; used for the echo reply.

        Returns:
            The tokens that would be sent if nothing truncates the reply.
        """
        if self.tokens is not None:
            return list(self.tokens)
        if self.token_count is not None:
            return generated_tokens(self.token_count)
        if self.text is not None:
            return split_tokens(self.text)
        return split_tokens(echo_text(body or {}))

    def resolve_reasoning(self) -> list[str]:
        """Return the reasoning tokens sent before the content (empty when none)."""
        if self.reasoning_token_count is not None:
            return generated_reasoning_tokens(self.reasoning_token_count)
        if self.reasoning is not None:
            return split_tokens(self.reasoning)
        return []


def split_tokens(text: str) -> list[str]:
    """Split text into word tokens that keep their leading whitespace.

    ``"".join(split_tokens(text)) == text`` always holds.

    Args:
        text: Text to split.

    Returns:
        Tokens such as ``["Echo:", " hello", " world"]``.
    """
    tokens = _TOKEN_RE.findall(text)
    consumed = sum(len(t) for t in tokens)
    if consumed < len(text):
        tail = text[consumed:]
        if tokens:
            tokens[-1] += tail
        else:
            tokens = [tail]
    return tokens


def generated_tokens(n: int) -> list[str]:
    """Build a deterministic reply of ``n`` tokens.

    Every token is a space followed by a four-letter word, i.e. exactly
    :data:`GENERATED_TOKEN_BYTES` UTF-8 bytes, so ``n`` tokens are
    ``n * GENERATED_TOKEN_BYTES`` bytes of content.

    Args:
        n: Number of tokens.

    Returns:
        List of ``n`` tokens, e.g. ``[" lore", " ipsu", ...]``.
    """
    words = _GEN_WORDS
    return [" " + words[i % len(words)] for i in range(max(0, n))]


def generated_reasoning_tokens(n: int) -> list[str]:
    """Build deterministic reasoning of ``n`` tokens.

    Like :func:`generated_tokens` (:data:`GENERATED_TOKEN_BYTES` bytes a token), from words
    that never appear in generated content, e.g. ``[" hmmm", " thnk", ...]``.
    """
    words = _REASONING_WORDS
    return [" " + words[i % len(words)] for i in range(max(0, n))]


def _content_to_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return " ".join(parts)
    return ""


def echo_text(body: dict[str, Any]) -> str:
    """Return the default echo reply for a request body.

    Args:
        body: Parsed chat completion request body.

    Returns:
        ``"Echo: <content of the last user message>"`` (``"Echo: "`` + empty
        string when there is no user message).
    """
    messages = body.get("messages")
    last = ""
    if isinstance(messages, list):
        for msg in reversed(messages):
            if isinstance(msg, dict) and msg.get("role") == "user":
                last = _content_to_text(msg.get("content"))
                break
    return f"Echo: {last}"


def split_model_id(model: str) -> tuple[str, str]:
    """Split a model id into its base id and option query string.

    Args:
        model: Model id such as ``"fake?tokens=10&delay=0.1"``.

    Returns:
        ``(base, query)``, e.g. ``("fake", "tokens=10&delay=0.1")``; the query is
        empty when the id has no ``?``.
    """
    base, _, query = model.partition("?")
    return base, query


_OPTION_ALIASES: dict[str, str] = {
    "text": "text",
    "tokens": "token_count",
    "token_count": "token_count",
    "delay": "delay",
    "first": "first_token_delay",
    "first_token_delay": "first_token_delay",
    "status": "status",
    "message": "error_message",
    "error_message": "error_message",
    "drop_after": "drop_after",
    "error_after": "error_after",
    "reasoning": "reasoning_token_count",
    "reasoning_token_count": "reasoning_token_count",
    "reasoning_text": "reasoning",
    "reasoning_field": "reasoning_field",
}
_INT_FIELDS = frozenset(
    {"token_count", "status", "drop_after", "error_after", "reasoning_token_count"}
)
_FLOAT_FIELDS = frozenset({"delay", "first_token_delay"})


def parse_model_options(model: str) -> ReplySpec | None:
    """Parse reply options encoded in a model id.

    Supported keys: ``text``, ``tokens`` (alias ``token_count``), ``delay``,
    ``first`` (alias ``first_token_delay``), ``status``, ``message`` (alias
    ``error_message``), ``drop_after``, ``error_after``, ``reasoning`` (a count, alias
    ``reasoning_token_count``), ``reasoning_text`` and ``reasoning_field``. Values are
    URL-decoded.

    Args:
        model: Model id, e.g. ``"fake?tokens=1000&delay=0.02&first=0.3"`` or
            ``"fake?reasoning=20&tokens=30"``.

    Returns:
        A :class:`ReplySpec`, or ``None`` when the id carries no options
        (plain ids such as ``"fake-model"``).

    Raises:
        ValueError: On an unknown key or a value of the wrong type.
    """
    _, query = split_model_id(model)
    if not query:
        return None
    kwargs: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        name = _OPTION_ALIASES.get(key)
        if name is None:
            raise ValueError(f"unknown fake model option {key!r} in {model!r}")
        try:
            if name in _INT_FIELDS:
                kwargs[name] = int(raw)
            elif name in _FLOAT_FIELDS:
                kwargs[name] = float(raw)
            else:
                kwargs[name] = raw
        except ValueError as exc:
            raise ValueError(f"bad value {raw!r} for fake model option {key!r}") from exc
    return ReplySpec(**kwargs)


# ----------------------------------------------------------------- embeddings

#: Length of :func:`fake_embedding` vectors unless the request asks for ``dimensions``.
EMBEDDING_DIMENSIONS = 32


def fake_embedding(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """A deterministic unit vector: the text's characters hashed into buckets.

    Texts that share characters point in similar directions, so retrieval tests can rank.
    """
    counts = [0.0] * dimensions
    for char in text:
        digest = hashlib.blake2b(char.encode(), digest_size=4).digest()
        counts[int.from_bytes(digest, "little") % dimensions] += 1.0
    norm = math.sqrt(sum(c * c for c in counts)) or 1.0
    return [c / norm for c in counts]


def _error_body(
    status: int, message: str | None, err_type: str | None = None, code: str | None = None
) -> dict[str, Any]:
    default_type, default_code = _ERROR_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return {
        "error": {
            "message": message or f"Fake provider error (HTTP {status})",
            "type": err_type or default_type,
            "param": None,
            "code": code if code is not None else default_code,
        }
    }


def _usage(prompt_tokens: int, completion_tokens: int, reasoning_tokens: int) -> dict[str, Any]:
    """An OpenAI ``usage`` object; ``completion_tokens`` counts the reasoning tokens too."""
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return usage


def _count_words(messages: Any) -> int:
    if not isinstance(messages, list):
        return 0
    total = 0
    for msg in messages:
        if isinstance(msg, dict):
            total += len(_content_to_text(msg.get("content")).split()) + 1
    return total


# --------------------------------------------------------------------------- #
# Recording
# --------------------------------------------------------------------------- #


@dataclass
class RecordedRequest:
    """One request received by the fake provider.

    Fields are updated by the server thread while the request is being served;
    ``finished`` becomes ``True`` when the handler has exited.

    Attributes:
        index: Sequence number since start / last reset.
        method: HTTP method.
        path: Request path (``/v1/chat/completions``, ``/v1/models``...).
        headers: Request headers (lower-cased names).
        body: Parsed JSON body (empty dict when none / invalid).
        spec: The :class:`ReplySpec` used (``None`` for non-chat requests).
        status: HTTP status sent.
        planned_tokens: Content tokens the reply would contain if not cut short.
        tokens_sent: Content tokens actually written to the socket.
        planned_reasoning: Reasoning tokens the reply would send before its content.
        reasoning_sent: Reasoning tokens actually written to the socket.
        completed: ``True`` once ``[DONE]`` (or the full non-stream body) was sent.
        client_disconnected: ``True`` when the client closed the connection
            before the end of the reply.
        dropped: ``True`` when the server aborted the connection (``drop_after``).
        finish_reason: ``"stop"``/``"length"`` when a finish chunk was sent.
        started_at: ``time.monotonic()`` at arrival.
        first_token_at: ``time.monotonic()`` when the first token (reasoning or
            content) was written.
        ended_at: ``time.monotonic()`` when the handler exited.
        finished: ``True`` once the handler has exited.
    """

    index: int
    method: str
    path: str
    headers: dict[str, str] = field(repr=False)
    body: dict[str, Any]
    spec: ReplySpec | None = None
    status: int = 200
    planned_tokens: list[str] = field(default_factory=list, repr=False)
    tokens_sent: int = 0
    planned_reasoning: list[str] = field(default_factory=list, repr=False)
    reasoning_sent: int = 0
    completed: bool = False
    client_disconnected: bool = False
    dropped: bool = False
    finish_reason: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    ended_at: float | None = None
    finished: bool = False

    @property
    def model(self) -> str | None:
        """Model id from the body (including any ``?options``)."""
        value = self.body.get("model")
        return value if isinstance(value, str) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """``messages`` list from the body (empty if missing)."""
        value = self.body.get("messages")
        return value if isinstance(value, list) else []

    @property
    def temperature(self) -> float | None:
        """``temperature`` from the body."""
        return self.body.get("temperature")

    @property
    def max_tokens(self) -> int | None:
        """``max_completion_tokens`` or ``max_tokens`` from the body."""
        value = self.body.get("max_completion_tokens")
        if value is None:
            value = self.body.get("max_tokens")
        return value

    @property
    def stream(self) -> bool:
        """Whether the request asked for streaming."""
        return bool(self.body.get("stream"))

    @property
    def text_sent(self) -> str:
        """Concatenation of the content tokens actually sent."""
        return "".join(self.planned_tokens[: self.tokens_sent])

    @property
    def reasoning_text_sent(self) -> str:
        """Concatenation of the reasoning tokens actually sent."""
        return "".join(self.planned_reasoning[: self.reasoning_sent])


# --------------------------------------------------------------------------- #
# Server
# --------------------------------------------------------------------------- #


class FakeProvider:
    """OpenAI-compatible fake LLM server on 127.0.0.1 in a background thread.

    Use as a context manager (``with FakeProvider() as fp:``) or call
    :meth:`start` / :meth:`stop`. All public methods are thread-safe.

    Attributes:
        host: Bind address (loopback).
        api_key: When set, requests must carry ``Authorization: Bearer <api_key>``.
        models: Model ids listed by ``GET /v1/models``.
        report_usage: Whether a stream that asks for it (``stream_options.include_usage``)
            ends with a usage chunk; False acts as a server that ignores the option.
        refuse_stream_options: Answer 400 to any request that carries ``stream_options``
            (as some servers do), without taking a reply spec.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        default: ReplySpec | None = None,
        models: Sequence[str] = DEFAULT_MODELS,
    ) -> None:
        """Create a (not yet started) fake provider.

        Args:
            host: Address to bind; keep the loopback default.
            port: TCP port; ``0`` picks a free ephemeral port.
            api_key: Optional expected bearer token (401 on mismatch).
            default: Reply used when nothing is enqueued and the model id has no
                options; defaults to the echo reply ``ReplySpec()``.
            models: Model ids listed by ``GET /v1/models``.
        """
        self.host = host
        self.api_key = api_key
        self.models: tuple[str, ...] = tuple(models)
        self.report_usage = True
        self.refuse_stream_options = False
        self._requested_port = port
        self._port: int | None = None
        self._initial_default = default if default is not None else ReplySpec()
        self._default = self._initial_default
        self._queue: collections.deque[ReplySpec] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._stopping = False
        self._active: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeProvider:
        """Start the server thread and wait until it accepts connections.

        Returns:
            ``self``, for chaining.

        Raises:
            RuntimeError: If already started or the server failed to start.
        """
        if self._thread is not None:
            raise RuntimeError("FakeProvider already started")
        self._stopping = False
        self._ready.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._thread_main, name="fake-provider", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("FakeProvider failed to start") from self._start_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server, cancelling in-flight requests, and join the thread.

        Args:
            timeout: Maximum seconds to wait for the thread to exit.
        """
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._stopping = True
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._loop = None
        self._port = None

    def __enter__(self) -> FakeProvider:
        """Start the server (context manager entry).

        Returns:
            The started provider.
        """
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server (context manager exit)."""
        self.stop()

    @property
    def port(self) -> int:
        """Bound TCP port (only valid while running)."""
        if self._port is None:
            raise RuntimeError("FakeProvider is not running")
        return self._port

    @property
    def url(self) -> str:
        """Server root URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI ``base_url``, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    # ----------------------------------------------------------------- scripting

    @property
    def default(self) -> ReplySpec:
        """Reply used when the queue is empty and the model id has no options."""
        return self._default

    @default.setter
    def default(self, spec: ReplySpec) -> None:
        self._default = spec

    def enqueue(self, *specs: ReplySpec) -> None:
        """Queue replies; each chat request consumes one (FIFO).

        Enqueued specs take precedence over model-id options and the default.

        Args:
            *specs: Reply specs to append to the queue.
        """
        with self._cond:
            self._queue.extend(specs)

    @property
    def pending(self) -> int:
        """Number of enqueued, not yet consumed reply specs."""
        with self._cond:
            return len(self._queue)

    def _next_spec(self, model: str) -> ReplySpec:
        with self._cond:
            if self._queue:
                return self._queue.popleft()
        from_model = parse_model_options(model)
        return from_model if from_model is not None else self._default

    # ----------------------------------------------------------------- records

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot list of all recorded requests (oldest first)."""
        with self._cond:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Recorded ``/v1/chat/completions`` requests only."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def last_request(self) -> RecordedRequest | None:
        """Most recent recorded request, or ``None``."""
        with self._cond:
            return self._requests[-1] if self._requests else None

    def wait_for_requests(
        self, n: int = 1, timeout: float = 5.0, *, finished: bool = True
    ) -> list[RecordedRequest]:
        """Block until at least ``n`` requests were recorded.

        Args:
            n: Number of requests to wait for.
            timeout: Maximum seconds to wait.
            finished: Also wait until the first ``n`` requests' handlers have
                exited (so ``completed``/``client_disconnected`` are final).

        Returns:
            Snapshot of all recorded requests.

        Raises:
            TimeoutError: If the condition is not met within ``timeout``.
        """

        def ready() -> bool:
            if len(self._requests) < n:
                return False
            return not finished or all(r.finished for r in self._requests[:n])

        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                got = len(self._requests)
                done = sum(r.finished for r in self._requests)
                raise TimeoutError(
                    f"expected {n} requests (finished={finished}), got {got} ({done} finished)"
                )
            return list(self._requests)

    def reset(self) -> None:
        """Clear recorded requests and queued specs, and restore the default."""
        with self._cond:
            self._requests.clear()
            self._queue.clear()
            self._default = self._initial_default

    def _record(self, request: web.Request, body: dict[str, Any]) -> RecordedRequest:
        with self._cond:
            rec = RecordedRequest(
                index=len(self._requests),
                method=request.method,
                path=request.path,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
            )
            self._requests.append(rec)
            self._cond.notify_all()
        return rec

    def _finish(self, rec: RecordedRequest) -> None:
        with self._cond:
            rec.ended_at = time.monotonic()
            rec.finished = True
            self._cond.notify_all()

    # ----------------------------------------------------------------- thread

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._async_start())
        except BaseException as exc:  # reported to start()
            self._start_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._async_stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _async_start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle_chat)
        app.router.add_post("/chat/completions", self._handle_chat)
        app.router.add_get("/v1/models", self._handle_models)
        app.router.add_get("/models", self._handle_models)
        app.router.add_post("/v1/embeddings", self._handle_embeddings)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
            shutdown_timeout=0.5,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port, backlog=1024)
        await site.start()
        self._runner = runner
        server = site._server  # only way to read the bound port
        assert isinstance(server, asyncio.base_events.Server)
        self._port = server.sockets[0].getsockname()[1]

    async def _async_stop(self) -> None:
        for task in list(self._active):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------- handlers

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization", "") == f"Bearer {self.api_key}":
            return None
        return web.json_response(
            _error_body(
                401,
                "Incorrect API key provided.",
                "invalid_request_error",
                "invalid_api_key",
            ),
            status=401,
        )

    async def _handle_models(self, request: web.Request) -> web.StreamResponse:
        rec = self._record(request, {})
        try:
            denied = self._check_auth(request)
            if denied is not None:
                rec.status = denied.status
                return denied
            created = int(time.time())
            data = [
                {"id": m, "object": "model", "created": created, "owned_by": "fake-provider"}
                for m in self.models
            ]
            rec.completed = True
            return web.json_response({"object": "list", "data": data})
        finally:
            self._finish(rec)

    async def _handle_embeddings(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        rec = self._record(request, body if isinstance(body, dict) else {})
        try:
            denied = self._check_auth(request)
            if denied is not None:
                rec.status = denied.status
                return denied
            texts = rec.body.get("input")
            if isinstance(texts, str):
                texts = [texts]
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                rec.status = 400
                message = "input must be a string or a list of strings"
                return web.json_response(_error_body(400, message), status=400)
            dimensions = int(rec.body.get("dimensions") or EMBEDDING_DIMENSIONS)
            data: list[dict[str, Any]] = []
            for index, text in enumerate(texts):
                vector = fake_embedding(text, dimensions)
                embedding: Any = vector
                if rec.body.get("encoding_format") == "base64":
                    packed = struct.pack(f"<{len(vector)}f", *vector)
                    embedding = base64.b64encode(packed).decode()
                data.append({"object": "embedding", "index": index, "embedding": embedding})
            tokens = sum(len(t) for t in texts)
            rec.completed = True
            return web.json_response(
                {
                    "object": "list",
                    "data": data,
                    "model": rec.body.get("model", ""),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }
            )
        finally:
            self._finish(rec)

    async def _handle_chat(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._active.add(task)
        body: dict[str, Any] = {}
        bad_json = False
        try:
            parsed = await request.json()
            if isinstance(parsed, dict):
                body = parsed
            else:
                bad_json = True
        except (ValueError, UnicodeDecodeError):
            bad_json = True
        rec = self._record(request, body)
        try:
            return await self._serve_chat(request, rec, bad_json)
        except asyncio.CancelledError:
            # With handler_cancellation=True aiohttp cancels the handler as soon
            # as the client's connection is lost (also during sleeps).
            if not rec.completed and not rec.dropped and not self._stopping:
                rec.client_disconnected = True
            raise
        finally:
            self._finish(rec)
            if task is not None:
                self._active.discard(task)

    async def _serve_chat(
        self, request: web.Request, rec: RecordedRequest, bad_json: bool
    ) -> web.StreamResponse:
        denied = self._check_auth(request)
        if denied is not None:
            rec.status = denied.status
            return denied
        body = rec.body
        if bad_json:
            rec.status = 400
            return web.json_response(
                _error_body(400, "Request body is not a JSON object."), status=400
            )
        if self.refuse_stream_options and "stream_options" in body:
            rec.status = 400
            return web.json_response(
                _error_body(400, "Unrecognized request argument supplied: stream_options"),
                status=400,
            )
        model_raw = body.get("model")
        model = model_raw if isinstance(model_raw, str) else "fake-model"
        try:
            spec = self._next_spec(model)
        except ValueError as exc:
            rec.status = 400
            return web.json_response(_error_body(400, str(exc)), status=400)
        rec.spec = spec

        loop = asyncio.get_running_loop()
        t0 = loop.time()

        if spec.status is not None and spec.status >= 400:
            if spec.first_token_delay > 0:
                await asyncio.sleep(spec.first_token_delay)
            rec.status = spec.status
            return web.json_response(
                _error_body(spec.status, spec.error_message, spec.error_type, spec.error_code),
                status=spec.status,
                headers=spec.headers,
            )

        tokens = spec.resolve_tokens(body)
        finish_reason = "stop"
        limit = body.get("max_completion_tokens")
        if limit is None:
            limit = body.get("max_tokens")
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < len(tokens):
            tokens = tokens[:limit]
            finish_reason = "length"
        rec.planned_tokens = tokens
        rec.planned_reasoning = spec.resolve_reasoning()

        created = int(time.time())
        completion_id = f"chatcmpl-fake{next(self._ids):08d}"
        base_model = split_model_id(model)[0]
        prompt_tokens = _count_words(body.get("messages"))

        if body.get("stream"):
            return await self._stream(
                request, rec, spec, tokens, finish_reason, t0,
                completion_id, created, base_model, prompt_tokens,
            )  # fmt: skip
        return await self._non_stream(
            request, rec, spec, tokens, finish_reason, t0,
            completion_id, created, base_model, prompt_tokens,
        )  # fmt: skip

    async def _non_stream(
        self,
        request: web.Request,
        rec: RecordedRequest,
        spec: ReplySpec,
        tokens: list[str],
        finish_reason: str,
        t0: float,
        completion_id: str,
        created: int,
        model: str,
        prompt_tokens: int,
    ) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        reasoning = rec.planned_reasoning
        n = len(reasoning) + len(tokens)
        if spec.drop_after is not None:
            n = min(n, spec.drop_after)
        elif spec.error_after is not None:
            n = min(n, spec.error_after)
        end = t0 + spec.first_token_delay + max(0, n - 1) * spec.delay
        delay = end - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if spec.drop_after is not None:
            rec.dropped = True
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)
        if spec.error_after is not None:
            rec.status = 500
            return web.json_response(
                _error_body(500, spec.error_message, spec.error_type, spec.error_code),
                status=500,
                headers=spec.headers,
            )
        rec.tokens_sent = len(tokens)
        rec.reasoning_sent = len(reasoning)
        rec.first_token_at = time.monotonic()
        rec.finish_reason = finish_reason
        rec.completed = True
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(tokens),
            "refusal": None,
        }
        if reasoning:
            message[spec.reasoning_field] = "".join(reasoning)
        payload = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": _usage(prompt_tokens, n, len(reasoning)),
            "system_fingerprint": None,
        }
        return web.json_response(payload, headers=spec.headers)

    async def _stream(
        self,
        request: web.Request,
        rec: RecordedRequest,
        spec: ReplySpec,
        tokens: list[str],
        finish_reason: str,
        t0: float,
        completion_id: str,
        created: int,
        model: str,
        prompt_tokens: int,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={**_SSE_HEADERS, **spec.headers})
        if spec.headers_delay > 0:
            await asyncio.sleep(spec.headers_delay)
        await resp.prepare(request)

        head = json.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
            },
            separators=(",", ":"),
        )[:-1].encode()
        limit = len(rec.planned_reasoning) + len(tokens)
        stop_kind: str | None = None
        if spec.drop_after is not None:
            limit, stop_kind = min(limit, max(0, spec.drop_after)), "drop"
        elif spec.error_after is not None:
            limit, stop_kind = min(limit, max(0, spec.error_after)), "error"

        try:
            return await self._stream_body(
                request, resp, rec, tokens, limit, stop_kind, spec,
                finish_reason, t0, head, prompt_tokens,
            )  # fmt: skip
        except ConnectionResetError:
            # A write failed because the client went away.
            if not rec.completed and not rec.dropped:
                rec.client_disconnected = True
            return resp

    async def _stream_body(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        rec: RecordedRequest,
        tokens: list[str],
        limit: int,
        stop_kind: str | None,
        spec: ReplySpec,
        finish_reason: str,
        t0: float,
        head: bytes,
        prompt_tokens: int,
    ) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        reasoning = rec.planned_reasoning
        n_reasoning = len(reasoning)
        pre = b"data: " + head + b',"choices":[{"index":0,"delta":{"content":'
        post = b'},"logprobs":null,"finish_reason":null}]}\n\n'
        # Reasoning chunks, then content chunks that say they carry no reasoning (DeepSeek's
        # shape); a reply without reasoning keeps the plain content chunks.
        field_name = json.dumps(spec.reasoning_field).encode()
        pre_reasoning, post_reasoning = pre + b"null," + field_name + b":", post
        if reasoning:
            post = b"," + field_name + b":null" + post
        reasoning_cache: dict[str, bytes] = {}
        role_chunk = (
            b"data: "
            + head
            + b',"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
            + b'"logprobs":null,"finish_reason":null}]}\n\n'
        )
        cache: dict[str, bytes] = {}
        dumps = json.dumps

        first_at = t0 + spec.first_token_delay
        delay = spec.delay
        pending = role_chunk
        for i in range(limit):
            wait = first_at + i * delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif i and not i % 64:
                await asyncio.sleep(0)  # let other streams run at full speed
            if i < n_reasoning:
                tok = reasoning[i]
                data = reasoning_cache.get(tok)
                if data is None:
                    data = pre_reasoning + dumps(tok, ensure_ascii=False).encode() + post_reasoning
                    reasoning_cache[tok] = data
            else:
                tok = tokens[i - n_reasoning]
                data = cache.get(tok)
                if data is None:
                    data = pre + dumps(tok, ensure_ascii=False).encode() + post
                    cache[tok] = data
            if pending:
                data = pending + data
                pending = b""
                rec.first_token_at = time.monotonic()
            await resp.write(data)
            if i < n_reasoning:
                rec.reasoning_sent = i + 1
            else:
                rec.tokens_sent = i + 1 - n_reasoning

        if limit == 0:
            wait = first_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)

        if stop_kind == "drop":
            if pending:
                await resp.write(pending)
            await self._flush(request)
            rec.dropped = True
            if request.transport is not None:
                request.transport.abort()
            return resp

        if stop_kind == "error":
            err = _error_body(500, spec.error_message, spec.error_type, spec.error_code)
            await resp.write(pending + b"data: " + json.dumps(err).encode() + b"\n\n")
            await resp.write_eof()
            return resp

        finish = (
            b"data: "
            + head
            + b',"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"'
            + finish_reason.encode()
            + b'"}]}\n\n'
        )
        tail = pending + finish
        stream_options = rec.body.get("stream_options")
        if (
            self.report_usage
            and isinstance(stream_options, dict)
            and stream_options.get("include_usage")
        ):
            usage = _usage(prompt_tokens, limit, n_reasoning)
            tail += (
                b"data: "
                + head
                + b',"choices":[],"usage":'
                + json.dumps(usage, separators=(",", ":")).encode()
                + b"}\n\n"
            )
        rec.finish_reason = finish_reason
        await resp.write(tail + _DONE)
        rec.completed = True
        await resp.write_eof()
        return resp

    @staticmethod
    async def _flush(request: web.Request, max_wait: float = 2.0) -> None:
        """Wait until the transport's write buffer is empty (best effort)."""
        transport = request.transport
        if transport is None:
            return
        for _ in range(int(max_wait / 0.001)):
            if transport.get_write_buffer_size() == 0:
                return
            await asyncio.sleep(0.001)


# --------------------------------------------------------------------------- #
# CLI
# --------------------------------------------------------------------------- #


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake provider in the foreground until Ctrl-C.

    Args:
        argv: Command line arguments (defaults to ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_provider",
        description="Loopback OpenAI-compatible fake LLM server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8011, help="port (0 = ephemeral)")
    parser.add_argument("--api-key", default=None, help="require this bearer token")
    parser.add_argument("--text", default=None, help="default reply text")
    parser.add_argument("--tokens", type=int, default=None, help="default reply token count")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between tokens")
    parser.add_argument("--first", type=float, default=0.0, help="first token delay (s)")
    parser.add_argument(
        "--reasoning", type=int, default=None, help="reasoning tokens before the reply"
    )
    args = parser.parse_args(argv)

    default = ReplySpec(
        text=args.text,
        token_count=args.tokens,
        delay=args.delay,
        first_token_delay=args.first,
        reasoning_token_count=args.reasoning,
    )
    fp = FakeProvider(host=args.host, port=args.port, api_key=args.api_key, default=default)
    fp.start()
    print(f"FAKE_PROVIDER_BASE_URL={fp.base_url}", flush=True)
    print(f"default reply: {dataclasses.asdict(default)}", flush=True)
    print(
        "Model-id options: fake?tokens=N&reasoning=N&delay=S&first=S&status=C"
        "&drop_after=K&error_after=K",
        flush=True,
    )
    print("Press Ctrl-C to stop.", flush=True)

    def _on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fp.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
