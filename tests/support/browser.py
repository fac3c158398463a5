"""Playwright helpers: Debian's Chromium, screenshots, recorders of websocket frames and of
Content-Security-Policy violations."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    WebSocket,
    sync_playwright,
)

from llm_chat.config import PROJECT_ROOT

#: Screenshots and the app log of the browser tests (git-ignored).
OUTPUT_DIR = PROJECT_ROOT / "test-output" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own browsers are never downloaded)."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Chromium is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``test-output/browser/<name>.png``."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class FrameRecorder:
    """Keeps every websocket frame the page receives from (and sends to) the server."""

    def __init__(self, page: Page) -> None:
        """Start recording the sockets ``page`` opens from now on."""
        self.received: list[str] = []
        self.sent: list[str] = []
        self.urls: list[str] = []
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: WebSocket) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", lambda payload: self.received.append(_text(payload)))
        ws.on("framesent", lambda payload: self.sent.append(_text(payload)))

    def received_containing(self, needle: str) -> list[str]:
        """The received frames that contain ``needle``."""
        return [frame for frame in self.received if needle in frame]


def _text(payload: str | bytes) -> str:
    return payload if isinstance(payload, str) else payload.decode("utf-8", errors="replace")


# Reports each violation of the page's Content-Security-Policy to the test.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportPolicyViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"} on ` +
      `${location.pathname} at ${event.sourceFile}:${event.lineNumber} ${event.sample}`,
  );
});
"""


class PolicyViolations:
    """Keeps every Content-Security-Policy violation of the browser contexts it watches.

    Two sources: the ``securitypolicyviolation`` events of each page, and Chromium's console
    messages about the policy (it logs each violation as an error).
    """

    def __init__(self) -> None:
        """Nothing recorded yet."""
        self.seen: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        """Record the violations of every page of ``context`` from now on, reloads included."""
        context.expose_binding(
            "__reportPolicyViolation", lambda _source, text: self.seen.append(f"event: {text}")
        )
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.seen.append(f"console: {message.text}")
