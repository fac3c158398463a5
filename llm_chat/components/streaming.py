"""The reply being streamed, assembled in the browser from per-batch deltas."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx
from reflex_base.constants.compiler import MemoizationDisposition, MemoizationMode
from reflex_base.utils.imports import ImportDict
from reflex_base.vars.base import Var, VarData
from reflex_components_core.el.elements.typography import Div

from llm_chat.state.stream import StreamState

STREAMING_TEXT_ID = "streaming-text"
# How often the browser reveals more of a batch: 10 steps a second still read as steady
# typing (a few words a step), and each step costs a layout, a paint and a composite; at
# 16 steps a second a 1000-token reply cost Chromium ~3.4 s of CPU, at 10 about 2.2 s.
REVEAL_STEP_MS = 100


class StreamingText(Div):
    """A div whose text the browser extends with each batch, so a delta is O(1) per token.

    React renders it empty and never touches its text: an effect takes ``StreamState.chunk``
    for each new ``seq`` and reveals it over about the time until the next batch (so batches
    of a few hundred ms still read as a steady flow), or replaces the text when
    ``seq == base`` (a start, or a resync after a reload).
    """

    _memoization_mode = MemoizationMode(disposition=MemoizationDisposition.ALWAYS, recursive=False)

    def add_imports(self) -> ImportDict | list[ImportDict]:
        """React's useEffect."""
        return {"react": ["useEffect"]}

    def add_hooks(self) -> list[str | Var]:
        """Receive batches; reveal their text smoothly until the next one is due."""
        ref = self.get_ref()
        seq, base, chunk = StreamState.seq, StreamState.base, StreamState.chunk
        code = f"""
const REVEAL_STEP_MS = {REVEAL_STEP_MS};
useEffect(() => {{
    const el = {ref}.current;
    if (!el) return;
    el.__stream ??= {{ seq: null, pending: "", gap: 40, last: 0, timer: 0 }};
    const s = el.__stream;
    const seq = {seq};
    if (seq === {base}) {{
        if (s.timer) clearTimeout(s.timer);
        el.textContent = {chunk};
        Object.assign(s, {{ seq, pending: "", timer: 0, last: performance.now() }});
        return;
    }}
    if (s.seq === null || seq !== s.seq + 1) return;
    const now = performance.now();
    s.gap = Math.min(400, Math.max(16, now - s.last));
    s.last = now;
    s.seq = seq;
    s.pending += {chunk};
    if (s.timer) return;
    let before = now;
    const reveal = () => {{
        const time = performance.now();
        const count = Math.max(1, Math.ceil((s.pending.length * (time - before)) / s.gap));
        before = time;
        // A node per step: only the newest text is repainted, not the whole reply.
        el.appendChild(document.createTextNode(s.pending.slice(0, count)));
        s.pending = s.pending.slice(count);
        s.timer = s.pending ? setTimeout(reveal, REVEAL_STEP_MS) : 0;
    }};
    reveal();
}}, [{seq}, {base}]);
"""
        var_data = VarData.merge(
            seq._get_all_var_data(), base._get_all_var_data(), chunk._get_all_var_data()
        )
        return [Var(_js_expr=code, _var_data=var_data)]


def streaming_text() -> rx.Component:
    """The streaming reply's text, pre-wrapped, in the size of the finished messages."""
    return StreamingText.create(
        id=STREAMING_TEXT_ID,
        white_space="pre-wrap",
        font_size="var(--font-size-3)",
        line_height="var(--line-height-3)",
        letter_spacing="var(--letter-spacing-3)",
    )
