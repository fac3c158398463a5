"""The reply being streamed to a tab, sent so that each delta carries only the newest text."""

from __future__ import annotations

import reflex as rx


class StreamState(rx.State):
    """The browser appends ``chunk`` for each new ``seq`` (see assets/streaming_text.jsx).

    A top-level state with a short name, so that the per-batch delta is small. It has no
    event handlers: only ChatState's streaming handler changes it, through the methods below.
    """

    # The newest batch of the reply; the whole reply so far when `seq == base`.
    chunk: str = ""
    # The number of the newest batch.
    seq: int = 0
    # The batch at which `chunk` holds the whole reply so far (a start, or a resync).
    base: int = 0
    # The whole reply so far (backend only), for resyncs after a reload or a reconnect.
    _text: str = ""

    def restart(self) -> None:
        """Start a new, empty reply."""
        self._text = ""
        self.chunk = ""
        self.seq = self.base = 0

    def push(self, piece: str) -> None:
        """Send ``piece``, the next batch of the reply."""
        if not self._text:
            piece = piece.lstrip()  # replies often start with whitespace; never show it
            if not piece:
                return
        self._text += piece
        self.chunk = piece
        self.seq += 1

    def resync(self) -> None:
        """Send the whole reply so far (a browser that reloaded has none of it)."""
        self.base = self.seq
        self.chunk = self._text
