"""The benchmarks' loopback provider: :class:`tests.fake_provider.FakeProvider` in its own process.

Replies are scripted by the model id (``fake?tokens=1000&delay=0.02&first=0.3``). The provider
runs apart from the benchmark so that its CPU is neither charged to the load generator nor
slowed down by it. A line protocol on its stdin/stdout reports what it served::

    python -m bench.provider            # prints FAKE_PROVIDER_BASE_URL=http://127.0.0.1:PORT/v1
    requests                            # -> one JSON line: every chat request so far
    reset                               # -> "ok": forget them
    quit                                # (or end of input) stop

Times are ``time.monotonic()``, the system-wide monotonic clock on Linux, so they compare with
the benchmark's own.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fake_provider import FakeProvider, RecordedRequest

__all__ = ["ProviderProcess", "ServedRequest", "main"]

READY_PREFIX = "FAKE_PROVIDER_BASE_URL="
START_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 30.0
# Only this much of the question is reported (it identifies the request).
MARKER_CHARS = 200


@dataclass(frozen=True)
class ServedRequest:
    """One chat completion the provider served (times are ``time.monotonic()``)."""

    index: int
    question: str
    model: str
    arrived_at: float | None
    started_at: float
    first_token_at: float | None
    ended_at: float | None
    tokens_sent: int
    planned_tokens: int
    completed: bool
    client_disconnected: bool
    history_messages: int

    @property
    def ttft(self) -> float | None:
        """The provider's own time to the first token, seconds: from the request's arrival
        (its body still to be read and parsed, which is the provider's work) to the first
        token written."""
        if self.first_token_at is None:
            return None
        return self.first_token_at - (self.arrived_at or self.started_at)


class _TimedProvider(FakeProvider):
    """A FakeProvider that also notes when each request arrived, before its body is read."""

    def __init__(self) -> None:
        super().__init__(port=0)
        self.arrivals: dict[int, float] = {}  # request index -> time.monotonic()
        self._pending: dict[int, float] = {}  # id(request) -> arrival

    async def _handle_chat(self, request: web.Request) -> web.StreamResponse:
        self._pending[id(request)] = time.monotonic()
        try:
            return await super()._handle_chat(request)
        finally:
            self._pending.pop(id(request), None)

    def _record(self, request: web.Request, body: dict[str, Any]) -> RecordedRequest:
        rec = super()._record(request, body)
        arrived = self._pending.get(id(request))
        if arrived is not None:
            self.arrivals[rec.index] = arrived
        return rec

    def reset(self) -> None:
        super().reset()
        self.arrivals.clear()


def _describe(rec: RecordedRequest, arrived_at: float | None) -> dict[str, Any]:
    messages = rec.messages
    question = ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            question = content[:MARKER_CHARS] if isinstance(content, str) else ""
            break
    return {
        "index": rec.index,
        "question": question,
        "model": rec.model or "",
        "arrived_at": arrived_at,
        "started_at": rec.started_at,
        "first_token_at": rec.first_token_at,
        "ended_at": rec.ended_at,
        "tokens_sent": rec.tokens_sent,
        "planned_tokens": len(rec.planned_tokens),
        "completed": rec.completed,
        "client_disconnected": rec.client_disconnected,
        "history_messages": len(messages),
    }


def main() -> int:
    """Serve until ``quit`` or the end of stdin, answering commands on stdout."""
    provider = _TimedProvider()
    provider.start()
    print(f"{READY_PREFIX}{provider.base_url}", flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "requests":
                served = [
                    _describe(r, provider.arrivals.get(r.index)) for r in provider.chat_requests
                ]
                print(json.dumps(served), flush=True)
            elif command == "reset":
                provider.reset()
                print('"ok"', flush=True)
            elif command == "quit":
                break
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    finally:
        provider.stop()
    return 0


class ProviderProcess:
    """Starts ``python -m bench.provider`` and talks to it (a context manager)."""

    def __init__(self) -> None:
        """Prepare (not start) the provider process."""
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        """The provider's process id."""
        assert self._process is not None
        return self._process.pid

    def start(self) -> ProviderProcess:
        """Start the process and wait for its address."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.provider"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read, name="bench-provider-out", daemon=True).start()
        line = self._next_line(START_TIMEOUT_S)
        if not line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"the provider did not start: {line!r}")
        self.base_url = line.removeprefix(READY_PREFIX).strip()
        return self

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next_line(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty as exc:
            raise TimeoutError("the provider process did not answer") from exc
        if line is None:
            raise RuntimeError("the provider process ended")
        return line

    def _command(self, command: str) -> Any:
        with self._lock:
            assert self._process is not None
            assert self._process.stdin is not None
            self._process.stdin.write(command + "\n")
            self._process.stdin.flush()
            return json.loads(self._next_line(REPLY_TIMEOUT_S))

    def requests(self) -> list[ServedRequest]:
        """Every chat request served since the start or the last :meth:`reset`."""
        return [ServedRequest(**item) for item in self._command("requests")]

    def by_question(self) -> dict[str, ServedRequest]:
        """The served requests by their question (the last user message)."""
        return {r.question: r for r in self.requests()}

    def wait_for(self, questions: list[str], timeout: float = 30.0) -> dict[str, ServedRequest]:
        """Wait until the requests asking ``questions`` have ended; returns them by question."""
        wanted = {q[:MARKER_CHARS] for q in questions}
        deadline = time.monotonic() + timeout
        while True:
            served = self.by_question()
            if all(q in served and served[q].ended_at is not None for q in wanted):
                return served
            if time.monotonic() > deadline:
                missing = [q for q in wanted if q not in served or served[q].ended_at is None]
                raise TimeoutError(f"provider requests not finished: {missing[:3]}")
            time.sleep(0.1)

    def reset(self) -> None:
        """Forget the requests served so far."""
        self._command("reset")

    def stop(self) -> None:
        """Stop the process."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert process.stdin is not None
            process.stdin.write("quit\n")
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> ProviderProcess:
        """Start the provider."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the provider."""
        self.stop()


if __name__ == "__main__":
    raise SystemExit(main())
