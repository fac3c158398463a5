"""Server-Sent Events of a running turn, which is saved however the client leaves."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from llm_chat.services.turns import RunningTurn

SSE_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-cache",
    # nginx and similar proxies would otherwise hold the events back.
    "X-Accel-Buffering": "no",
}
DONE = b"data: [DONE]\n\n"


def sse_event(data: object, event: str | None = None) -> bytes:
    """One event; ``data`` as compact JSON, so newlines in the text cannot break the frame."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` that notices a client leaving on any ASGI server.

    Starlette watches for ``http.disconnect`` only on servers older than ASGI 2.4; this
    always does, so the events stop at once. ``turn`` is closed however the response ends
    (a client that left ends it ``interrupted``), inside a shielded scope so that the reply
    is saved even as the request is torn down.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncGenerator[bytes, None],
        *,
        turn: RunningTurn,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content, headers={**SSE_HEADERS, **(headers or {})})
        self._content = content
        self._turn = turn

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
                await self._turn.close()
