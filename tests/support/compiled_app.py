"""The app's front end as ``reflex compile --dry`` builds it, with the generated code kept.

:func:`compile_app` runs this module in a process of its own: compiling evaluates every page
and registers generated states and memo components process-wide, which must not leak into a
test session that serves the app. It runs Reflex's real compile pipeline (``compile_app`` with
``dry_run=True``: every page, its auto-memoized components, no bundler, no package install,
about two seconds) and records what it would write: each page module and each memo-component
module. Nothing is written to the work tree: ``REFLEX_WEB_WORKDIR`` points at a temporary
directory (a dry run still copies the stylesheets there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_chat.config import PROJECT_ROOT

COMPILE_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class CompiledApp:
    """What compiling the app produced."""

    # Every route the app registered (its pages and Reflex's 404 page).
    routes: list[str]
    # route -> the page module's code.
    pages: dict[str, str]
    # Path under the web directory (``app/routes/...``, ``app_components/...``) -> code.
    files: dict[str, str]

    def app_modules(self) -> dict[str, str]:
        """The modules generated from the app's own code (not Reflex's built-in ones)."""
        return {
            path: code
            for path, code in self.files.items()
            if path.startswith(("app/routes/", "app_components/llm_chat/"))
        }


def compile_app(web_dir: Path) -> CompiledApp:
    """Compile the app in a subprocess, its output under ``web_dir``.

    Raises:
        AssertionError: the compile failed (the message ends with its output).
    """
    out = web_dir / "compiled.json"
    env = {name: value for name, value in os.environ.items() if name != "__REFLEX_SKIP_COMPILE"}
    env.update(REFLEX_WEB_WORKDIR=str(web_dir), REFLEX_CHECK_LATEST_VERSION="false", NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.compiled_app", str(out)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT_SECONDS,
        check=False,
    )
    output = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"the app did not compile:\n{output}"
    data = json.loads(out.read_text(encoding="utf-8"))
    return CompiledApp(routes=data["routes"], pages=data["pages"], files=data["files"])


def _compile_and_record(out: Path) -> None:
    from reflex.compiler import compiler

    web_dir = Path(os.environ["REFLEX_WEB_WORKDIR"]).resolve()
    pages: dict[str, str] = {}
    files: dict[str, str] = {}

    def relative(path: str) -> str:
        return Path(path).resolve().relative_to(web_dir).as_posix()

    compile_page = compiler.compile_page_from_context
    compile_memos = compiler.compile_memo_components

    def record_page(page_ctx: Any) -> tuple[str, str]:
        path, code = compile_page(page_ctx)
        pages[page_ctx.route] = files[relative(path)] = code
        return path, code

    def record_memos(*args: Any, **kwargs: Any) -> Any:
        memo_files, imports = compile_memos(*args, **kwargs)
        files.update((relative(path), code) for path, code in memo_files)
        return memo_files, imports

    compiler.compile_page_from_context = record_page
    compiler.compile_memo_components = record_memos

    from llm_chat.llm_chat import app

    compiler.compile_app(app, dry_run=True, use_rich=False)
    routes = list(app._unevaluated_pages)
    out.write_text(json.dumps({"routes": routes, "pages": pages, "files": files}), "utf-8")


if __name__ == "__main__":
    _compile_and_record(Path(sys.argv[1]))
