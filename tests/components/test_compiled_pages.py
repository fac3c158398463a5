"""Every page compiles, and the browser-side code of components comes from assets/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llm_chat.components.messages import TURNS_SINCE_LOAD_MODULE
from llm_chat.components.streaming import STREAMING_TEXT_MODULE
from llm_chat.config import PROJECT_ROOT
from llm_chat.llm_chat import PAGES
from tests.support.compiled_app import CompiledApp, compile_app

# React hooks that only a hand-written effect would bring into the app's generated modules:
# effects and browser state belong in assets/*.js(x), imported by a component or a hook Var.
EFFECT_HOOKS = ("useEffect(", "useLayoutEffect(", "useState(", "useReducer(")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> CompiledApp:
    return compile_app(tmp_path_factory.mktemp("web"))


def _asset(module: str) -> Path:
    return PROJECT_ROOT / "assets" / module.removeprefix("$/public/")


def test_every_page_compiles(compiled: CompiledApp) -> None:
    assert len(compiled.routes) == len(PAGES) + 1  # and Reflex's 404 page
    assert sorted(compiled.pages) == sorted(compiled.routes)
    for code in compiled.pages.values():
        assert re.search(r"^export default \w+;$", code, re.MULTILINE)


@pytest.mark.parametrize(
    ("module", "name"),
    [(STREAMING_TEXT_MODULE, "StreamingText"), (TURNS_SINCE_LOAD_MODULE, "useTurnsSinceLoad")],
)
def test_components_import_their_code_from_assets(
    compiled: CompiledApp, module: str, name: str
) -> None:
    assert re.search(rf"^export function {name}\(", _asset(module).read_text(), re.MULTILINE)
    importing = [
        path
        for path, code in compiled.app_modules().items()
        if f'import {{{name}}} from "{module}"' in code
    ]
    assert importing, f"no compiled module imports {name} from {module}"


def test_no_effect_is_written_in_python(compiled: CompiledApp) -> None:
    app_modules = compiled.app_modules()
    assert len(app_modules) > len(PAGES)  # the pages and their memo components
    found = {
        path: hooks
        for path, code in app_modules.items()
        if (hooks := [hook for hook in EFFECT_HOOKS if hook in code])
    }
    assert found == {}


def _exported_components(code: str) -> list[str]:
    """The module's exported components, each with its code (split at ``export const``)."""
    return re.split(r"^export const ", code, flags=re.MULTILINE)[1:]


def test_message_lists_call_no_hook_per_message(compiled: CompiledApp) -> None:
    """Each message of a list is a memo component of its own, and the markdown's component
    map (a hook: it reads the colour mode) is called in the reply's own component, never in
    a list's render. Called there, it made the list's hook count follow its length (React's
    hook-order warning in dev mode) and its new component types made React build every
    reply's markdown again on each render of the list."""
    lists = [
        component
        for code in compiled.app_modules().values()
        for component in _exported_components(code)
        if "Array.prototype.map.call(" in component
    ]
    hook_in_list = re.compile(r"(?<!function )ComponentMap_\w+\(\)")
    assert [c.split(" ", 1)[0] for c in lists if hook_in_list.search(c)] == []
    message_lists = [c for c in lists if re.search(r"jsx\(ChatMessage_\w+,\s*\{item:", c)]
    assert len(message_lists) == 2  # the loaded messages and the turns since the load
