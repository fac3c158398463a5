"""The reply being streamed to a tab, sent so that each delta carries only the newest text."""

from __future__ import annotations

import reflex as rx


class StreamState(rx.State):
    """The browser appends ``chunk`` for each new ``seq`` (see assets/streaming_text.jsx).

    A reasoning model's thinking streams the same way on its own channel (``thought_*``).
    A top-level state with a short name, so that the per-batch delta is small. It has no
    event handlers: only ChatState's streaming handlers change it, through the methods below
    (private: Reflex makes every public method of a state an event any client may send).
    """

    # The newest batch of the answer; the whole answer so far when `seq == base`.
    chunk: str = ""
    # The number of the newest batch of the answer.
    seq: int = 0
    # The batch at which `chunk` holds the whole answer so far (a start, or a resync).
    base: int = 0
    # The same three for the reasoning (the "Thinking" panel).
    thought_chunk: str = ""
    thought_seq: int = 0
    thought_base: int = 0
    # The whole answer and reasoning so far (backend only), for resyncs after a reload.
    _text: str = ""
    _thought: str = ""

    def _restart(self) -> None:
        """Start a new, empty reply."""
        self._text = self._thought = ""
        self.chunk = ""
        self.seq = self.base = 0
        if self.thought_seq:  # only a reasoning reply sends its channel at all
            self.thought_chunk = ""
            self.thought_seq = self.thought_base = 0

    def _push(self, text: str, reasoning: str = "") -> None:
        """Send the next batch of the reply: its answer and its reasoning (either may be
        empty; only a channel that has new text is sent)."""
        if reasoning:
            if not self._thought:
                reasoning = reasoning.lstrip()
            if reasoning:
                self._thought += reasoning
                self.thought_chunk = reasoning
                self.thought_seq += 1
        if text:
            if not self._text:
                text = text.lstrip()  # replies often start with whitespace; never show it
                if not text:
                    return
            self._text += text
            self.chunk = text
            self.seq += 1

    def _is_whole(self) -> bool:
        """Whether the newest delta of each channel already holds its whole text."""
        return self.seq == self.base and self.thought_seq == self.thought_base

    def _resync(self) -> None:
        """Send the whole reply so far (a browser that reloaded has none of it)."""
        self.base = self.seq
        self.chunk = self._text
        if self.thought_seq:
            self.thought_base = self.thought_seq
            self.thought_chunk = self._thought
