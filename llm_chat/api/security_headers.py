"""Security headers on every HTTP response: a Content-Security-Policy and its companions.

The policy is the second line of defence behind safe rendering (markdown without raw HTML,
images of replies shown as links, ``components/markdown.py``): a page may run only its own
scripts and connect, load images and submit forms only to its own origin. Content that slipped
through could neither run a script from elsewhere nor send anything to another host.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A policy: each directive and its sources.
Policy = Mapping[str, tuple[str, ...]]

#: The app's policy, before the hashes of its pages' inline scripts (``page_script_hashes``).
APP_POLICY: Policy = {
    "default-src": ("'self'",),
    # No 'unsafe-inline': the built pages' inline scripts (React Router's hydration context
    # and module loader, React's streaming helpers, Reflex's theme script) are allowed by hash.
    # No 'unsafe-eval': the app uses rx.run_script, never rx.call_script (run with eval).
    "script-src": ("'self'",),
    # Emotion (Reflex's CSS-in-JS) writes <style> elements as the app runs and Radix sets
    # style attributes, so inline styles cannot be listed ahead. A style cannot run code, and
    # img-src and font-src keep it from loading anything from another host.
    "style-src": ("'self'", "'unsafe-inline'"),
    # data: for inline icons, blob: for files the page makes itself; never another host, so
    # an image in a model's reply is never fetched even if it were rendered as one.
    "img-src": ("'self'", "data:", "blob:"),
    # The build inlines small fonts into its stylesheets (one of KaTeX's, as a data: URL).
    "font-src": ("'self'", "data:"),
    # 'self' covers the socket too: CSP 3 matches ws: and wss: to the same host and port.
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

CSP_HEADER = "Content-Security-Policy"


def with_sources(policy: Policy, extra: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """``policy`` with more sources for some directives (directives it lacks are added)."""
    merged = dict(policy)
    for directive, sources in extra.items():
        merged[directive] = (*merged.get(directive, ()), *sources)
    return merged


def render_policy(policy: Policy) -> str:
    """The header value: ``directive source ...; ...``."""
    return "; ".join(" ".join((directive, *sources)) for directive, sources in policy.items())


def security_headers(policy: Policy) -> dict[str, str]:
    """The headers each response gets, with ``policy`` as its Content-Security-Policy.

    ``Referrer-Policy: no-referrer``: the app never reads a Referer, and the path of a page
    (``/c/<id>``) is nobody else's business, not even the origin, when a link is followed.
    """
    return {
        CSP_HEADER: render_policy(policy),
        # For browsers without CSP's frame-ancestors.
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class _InlineScripts(HTMLParser):
    """Collects the text of each ``<script>`` without ``src``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not dict(attrs).get("src"):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> list[str]:
    """The CSP sources (``'sha256-…'``) of the inline scripts of a page, in order."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in parser.scripts
    ]


def page_script_hashes(directory: Path) -> list[str]:
    """The distinct hashes of the inline scripts of every page built into ``directory``.

    None when nothing is built there (the API served alone, or the dev server's pages).
    """
    hashes: set[str] = set()
    for page in directory.rglob("*.html"):
        hashes.update(inline_script_hashes(page.read_text(encoding="utf-8")))
    return sorted(hashes)


class SecurityHeadersMiddleware:
    """Adds ``headers`` to each HTTP response, unless the response sets one itself.

    Pure ASGI: it changes the start of a response only and passes each body chunk on as it
    comes, so streamed responses (Server-Sent Events) still stream.
    """

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        """Wrap ``app``."""
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request through the wrapped app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
