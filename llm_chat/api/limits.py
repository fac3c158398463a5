"""Request bodies over a sane size get 413 before anything reads them whole."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llm_chat.api.errors import error_response

# A 100,000-character message is at most 400 KB of UTF-8; a long OpenAI-style history,
# sent whole on every call, gets more room.
MAX_BODY_BYTES = 4 * 1024 * 1024


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` on the paths under ``prefixes`` (not the UI's)."""

    def __init__(
        self, app: ASGIApp, *, prefixes: tuple[str, ...], max_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(Request(scope), 413, "api.body_too_large")
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # a chunked body that turned out too large
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, limited_receive, send)
