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


class StreamingText(Div):
    """A div whose text the browser extends with each batch, so a delta is O(1) per token.

    React renders it empty and never touches its text: an effect appends ``StreamState.chunk``
    for each new ``seq``, or replaces the text when ``seq == base`` (start, or resync).
    """

    _memoization_mode = MemoizationMode(disposition=MemoizationDisposition.ALWAYS, recursive=False)

    def add_imports(self) -> ImportDict | list[ImportDict]:
        """React's useEffect."""
        return {"react": ["useEffect"]}

    def add_hooks(self) -> list[str | Var]:
        """Append or replace the text when a new batch arrives."""
        ref = self.get_ref()
        seq, base, chunk = StreamState.seq, StreamState.base, StreamState.chunk
        code = f"""
useEffect(() => {{
    const el = {ref}.current;
    if (!el) return;
    const seq = {seq};
    if (seq === {base}) {{
        el.textContent = {chunk};
        el.dataset.seq = String(seq);
    }} else if (String(seq - 1) === el.dataset.seq) {{
        el.append({chunk});
        el.dataset.seq = String(seq);
    }}
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
