"""A streamed text, assembled in the browser from per-batch deltas (assets/streaming_text.jsx)."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx
from reflex.event import EventType, no_args_event_spec

# The module Reflex copies from assets/ into the front end's public/ folder.
STREAMING_TEXT_MODULE = "$/public/streaming_text.jsx"


class StreamingText(rx.Component):
    """A div whose text the browser extends with each batch, so a delta is O(1) per token.

    React renders it empty and never touches its text: for each new ``seq`` the component
    reveals ``chunk`` over about the time until the next batch, or replaces the text when
    ``seq == base`` (a start, or a resync). React may merge deltas that arrive together into
    one render (a reload mid-stream brings the state, the resync and a batch at once), so a
    batch can go unseen: the component then asks for a resync (``on_gap``).
    """

    library = STREAMING_TEXT_MODULE
    tag = "StreamingText"

    # The number of the newest batch.
    seq: rx.Var[int]
    # The batch at which `chunk` holds the whole text so far (a start, or a resync).
    base: rx.Var[int]
    # The newest batch of the text; the whole text so far when `seq == base`.
    chunk: rx.Var[str]
    # Called when the component cannot follow (it mounted mid-stream, or React merged
    # deltas and a batch went unseen): the server then sends the whole text so far.
    on_gap: rx.EventHandler[no_args_event_spec]


def streaming_text(
    *,
    seq: rx.Var[int] | int,
    base: rx.Var[int] | int,
    chunk: rx.Var[str] | str,
    on_gap: EventType[()],
    id: str,
    class_name: str | None = None,
) -> rx.Component:
    """A streamed text, pre-wrapped, in the size of the finished messages.

    Pass state vars, e.g. ``StreamState.seq`` (pyright types those as their values).

    Args:
        seq: The number of the newest batch.
        base: The batch at which ``chunk`` holds the whole text so far.
        chunk: The newest batch (the whole text so far when ``seq == base``).
        on_gap: The event that makes the server send the whole text so far.
        id: The element's id.
        class_name: Classes of the element, for styles of its own.
    """
    return StreamingText.create(
        seq=seq,
        base=base,
        chunk=chunk,
        on_gap=on_gap,
        id=id,
        class_name=class_name,
        white_space="pre-wrap",
        font_size="var(--font-size-3)",
        line_height="var(--line-height-3)",
        letter_spacing="var(--letter-spacing-3)",
    )
