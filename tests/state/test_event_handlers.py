"""Only the methods meant as events can be called from a browser.

Reflex makes every public method of a state class an event handler that any client may call
over the websocket; helpers must be private (``_name``), events declared with ``@rx.event``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from reflex.state import BaseState

import llm_chat.llm_chat  # noqa: F401  (defines every page and state)


def _app_states(root: type[BaseState] = BaseState) -> Iterator[type[BaseState]]:
    for state in root.__subclasses__():
        if state.__module__.startswith("llm_chat."):
            yield state
        yield from _app_states(state)


def test_every_public_method_of_a_state_is_a_declared_event() -> None:
    undeclared = []
    for state in set(_app_states()):
        for name, handler in state.event_handlers.items():
            if not handler.fn.__module__.startswith("llm_chat."):  # Reflex's own
                continue
            source = inspect.getsource(handler.fn).lstrip()
            if not source.startswith("@rx.event"):
                undeclared.append(f"{state.__name__}.{name}")
    assert sorted(set(undeclared)) == []
