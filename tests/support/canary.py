"""A loopback HTTP listener that records every request it gets: proof that nothing was sent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class Canary:
    """Listens on ``127.0.0.1`` (a free port) in a thread; ``paths`` holds each request's path.

    Use as a context manager.
    """

    def __init__(self) -> None:
        """Prepare (not start) the listener."""
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                paths.append(self.path)
                self.send_response(204)
                self.end_headers()

            def do_GET(self) -> None:
                self._record()

            def do_HEAD(self) -> None:
                self._record()

            def do_POST(self) -> None:
                self._record()

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the test asserts on `paths`

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="canary")

    @property
    def url(self) -> str:
        """The listener's root URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Canary:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
