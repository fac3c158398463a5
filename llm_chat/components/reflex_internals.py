"""The one module that uses Reflex's private Var API; everything else uses ``rx.*`` only.

Reflex 0.10's public API wraps a React component (``rx.Component`` with ``library``, ``tag``
and Var props, as ``components/streaming.py`` does) and calls a React hook with no arguments
(``rx.vars.use_hook_var``). It cannot call a hook *with* state vars as arguments and hand its
result to ``rx.foreach``; ``components/messages.py`` needs that for the turns kept in the
browser (``assets/turns_since_load.js``). A wrapped component cannot do it instead: Reflex
renders ``rx.foreach`` items from a Var, and a component could hand its children a value only
through a React context, read by a hook that works only if Reflex's auto-memoization happens
to compile the reading component inside the provider.

So :func:`hook_value` builds that Var by hand, with:

- ``VarData(imports=..., hooks=...)``: the import of the hook and the line that calls it,
  which Reflex places at the top of whichever compiled component reads the Var (a hook must
  run there, unconditionally, on every render);
- ``Var._get_all_var_data()`` of each argument: the state context the argument reads, merged
  in so that it is declared before the line that calls the hook;
- ``Var(_js_expr=...)``: a Var naming the hook's result.

These names live in ``reflex_base`` (pinned in requirements.txt); a Reflex upgrade that moves
them breaks this module only, and the tests in ``tests/components/`` catch it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import reflex as rx
from reflex_base.vars.base import VarData

_JS_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def hook_value(name: str, *, library: str, hook: str, args: Sequence[Any], var_type: Any) -> rx.Var:
    """The value of ``hook(*args)`` from ``library``, as ``const name = hook(...args);``.

    Args:
        name: The JavaScript name of the result; unique in the component that reads it.
        library: The module the hook is exported from, e.g. ``"$/public/x.js"``.
        hook: The exported hook's name.
        args: The hook's arguments, in order: state vars (or other Vars, or Python values).
        var_type: The Python type of the hook's result (``list[X]`` gives an array Var).

    Raises:
        ValueError: ``name`` or ``hook`` is not a JavaScript identifier.
    """
    for identifier in (name, hook):
        if not _JS_NAME.fullmatch(identifier):
            raise ValueError(f"not a JavaScript identifier: {identifier!r}")
    arg_vars = [rx.Var.create(arg) for arg in args]
    call = f"const {name} = {hook}({', '.join(str(arg) for arg in arg_vars)});"
    args_data = VarData.merge(*(arg._get_all_var_data() for arg in arg_vars))
    return rx.Var(
        _js_expr=name,
        _var_type=var_type,
        _var_data=VarData(imports={library: [rx.ImportVar(tag=hook)]}, hooks={call: args_data}),
    ).guess_type()
