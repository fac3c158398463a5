"""Server-Sent Events, and a reply that runs in its own task while a client reads it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from llm_chat.config import get_settings
from llm_chat.models import MessageStatus
from llm_chat.providers import StreamStats
from llm_chat.services import chat

SSE_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-cache",
    # nginx and similar proxies would otherwise hold the events back.
    "X-Accel-Buffering": "no",
}
DONE = b"data: [DONE]\n\n"
# Replies whose client left are still being saved; keep their tasks referenced.
_running: set[asyncio.Task[chat.ReplyOutcome]] = set()


def sse_event(data: object, event: str | None = None) -> bytes:
    """One event; ``data`` as compact JSON, so newlines in the text cannot break the frame."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


class ReplyRunner:
    """A turn's reply streaming in a task of its own; :meth:`pieces` hands out its text.

    The task is independent of the response, so a client that goes away cannot cut the
    reply off before it is saved: :meth:`close` stops it, and the partial text is saved as
    ``interrupted``.
    """

    def __init__(self, turn: chat.Turn, *, stats: StreamStats | None = None) -> None:
        settings = get_settings()
        self.turn = turn
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            self._run(settings.stream_batch_seconds, settings.provider_timeout_seconds, stats)
        )
        _running.add(self._task)
        self._task.add_done_callback(_running.discard)

    async def _run(
        self, batch_seconds: float, provider_timeout: float, stats: StreamStats | None
    ) -> chat.ReplyOutcome:
        async def put(text: str) -> None:
            self._queue.put_nowait(text)

        try:
            return await chat.stream_reply(
                self.turn,
                on_text=put,
                stop=self._stop,
                batch_seconds=batch_seconds,
                provider_timeout=provider_timeout,
                stopped_status=MessageStatus.INTERRUPTED,
                stats=stats,
            )
        finally:
            self._queue.put_nowait(None)

    async def next_piece(self) -> str | None:
        """The next piece of text, or ``None`` once the reply has ended."""
        return await self._queue.get()

    async def pieces(self) -> AsyncGenerator[str, None]:
        """The reply's text, piece by piece, until it ends."""
        while (piece := await self.next_piece()) is not None:
            yield piece

    async def outcome(self) -> chat.ReplyOutcome:
        """How the reply ended (waits for it)."""
        return await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop the reply if it still runs (its reader is gone) and wait until it is saved."""
        if not self._task.done():
            self._stop.set()
        await asyncio.wait({self._task})


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` that notices a client leaving on any ASGI server.

    Starlette watches for ``http.disconnect`` only on servers older than ASGI 2.4; this
    always does, so the events stop at once. ``runner`` is closed however the response
    ends, inside a shielded scope so that the reply is saved even as the request is torn
    down.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncGenerator[bytes, None],
        *,
        runner: ReplyRunner,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content, headers={**SSE_HEADERS, **(headers or {})})
        self._content = content
        self._runner = runner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def watch_disconnect() -> None:
                    await self.listen_for_disconnect(receive)
                    group.cancel_scope.cancel()

                group.start_soon(watch_disconnect)
                # ASGI 2.4 servers report a client that is gone this way.
                with contextlib.suppress(OSError):
                    await self.stream_response(send)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._content.aclose()
                await self._runner.close()
