"""A hook called with state vars, its result a Var for rx.foreach."""

from __future__ import annotations

import pytest
import reflex as rx

from llm_chat.components.reflex_internals import hook_value
from llm_chat.state.chat import ChatState, MessageItem


def test_hook_value_calls_the_hook_after_the_state_it_reads() -> None:
    value = hook_value(
        "turns",
        library="$/public/x.js",
        hook="useTurns",
        args=(ChatState.load_seq, 3),
        var_type=list[MessageItem],
    )
    assert str(value) == "turns"
    rx.foreach(value, lambda item: rx.text(item.content))  # an array Var of messages
    data = value._get_all_var_data()
    assert data is not None
    *context, call = data.hooks
    assert call == f"const turns = useTurns({ChatState.load_seq!s}, 3);"
    assert any("useStateContext" in hook for hook in context)
    assert dict(data.imports)["$/public/x.js"][0].tag == "useTurns"


@pytest.mark.parametrize(("name", "hook"), [("a b", "useX"), ("x", "use-x"), ("1x", "useX")])
def test_hook_value_refuses_what_is_not_a_name(name: str, hook: str) -> None:
    with pytest.raises(ValueError, match="not a JavaScript identifier"):
        hook_value(name, library="$/public/x.js", hook=hook, args=(), var_type=int)
