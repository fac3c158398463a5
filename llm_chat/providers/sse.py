"""An incremental Server-Sent Events decoder over raw bytes (the WHATWG event-stream format).

The provider's stream is read as bytes and cut into events here, so that one network read
holding many events costs one pass over its lines (see :mod:`llm_chat.providers.client`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """One dispatched event: its ``event:`` name (empty for the default) and its data."""

    name: str
    data: str


class SSEDecoder:
    """Feed bytes as they arrive; get the events they complete.

    Lines end in ``\\n``, ``\\r\\n`` or ``\\r``; ``data:`` lines of one event are joined with
    ``\\n``; a blank line dispatches; comments (``:``) and unknown fields are ignored. An
    event whose blank line never came is dropped, as the format says.
    """

    __slots__ = ("_data", "_name", "_pending")

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[str] = []
        self._name = ""

    def feed(self, chunk: bytes) -> list[Event]:
        """The events completed by ``chunk`` (a UTF-8 byte sequence may be cut anywhere)."""
        buffer = self._pending + chunk if self._pending else chunk
        lines = buffer.splitlines(keepends=True)
        if lines and (not lines[-1].endswith((b"\n", b"\r")) or lines[-1].endswith(b"\r")):
            # An unfinished line, or a "\r" whose "\n" may be in the next chunk.
            self._pending = lines.pop()
        else:
            self._pending = b""
        events: list[Event] = []
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line:
                if self._data:
                    events.append(Event(self._name, "\n".join(self._data)))
                self._data = []
                self._name = ""
                continue
            field, colon, value = line.partition(b":")
            if not colon or not field:  # a field name alone, or a comment
                if field == b"data":
                    self._data.append("")
                continue
            if value.startswith(b" "):
                value = value[1:]
            if field == b"data":
                self._data.append(value.decode("utf-8", "replace"))
            elif field == b"event":
                self._name = value.decode("utf-8", "replace")
        return events
