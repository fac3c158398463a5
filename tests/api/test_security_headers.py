"""Every HTTP response of the app carries the security headers, and streams still stream."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from reflex.utils.precompressed_staticfiles import PrecompressedStaticFiles
from sqlalchemy.engine import Engine

from llm_chat.api.app import serve_beside
from llm_chat.api.docs import SWAGGER_CSS, SWAGGER_JS
from llm_chat.api.security_headers import inline_script_hashes
from tests.api.conftest import sign_in
from tests.fake_provider import FakeProvider, ReplySpec
from tests.support.factories import make_model, make_user
from tests.support.reflex_server import ReflexServer
from tests.support.sse import iter_events

INLINE_SCRIPT = "window.__started = performance.now();"
PAGE = f"""<!DOCTYPE html>
<html><head><script>{INLINE_SCRIPT}</script>
<script type="module" src="/assets/app.js"></script></head><body></body></html>"""
REQUIRED = (
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
# Five tokens 0.25 s apart: a buffered stream would arrive all at once, a second late.
TOKENS = ["one ", "two ", "three ", "four ", "five"]
TOKEN_DELAY = 0.25


def sha256_source(script: str) -> str:
    """The CSP source that allows ``script`` inline."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"


def directive(policy: str, name: str) -> list[str]:
    """The sources of directive ``name`` in a policy header."""
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in {policy!r}")


def assert_secured(response: httpx.Response) -> str:
    """The response has every security header; returns its policy."""
    policy = response.headers["content-security-policy"]
    for required in REQUIRED:
        assert required in policy, (response.url, required)
    assert "'unsafe-inline'" not in directive(policy, "script-src")
    assert "'unsafe-eval'" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    return policy


@pytest.fixture
def built_pages(tmp_path: Path) -> Path:
    """A stand-in for the built front end: a page with an inline script, an asset (also
    gzipped, as Reflex builds it) and the 404 page."""
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "404.html").write_text("<p>Not found</p>", encoding="utf-8")
    assets = tmp_path / "assets"
    assets.mkdir()
    script = b"console.log('app');"
    (assets / "app.js").write_bytes(script)
    (assets / "app.js.gz").write_bytes(gzip.compress(script))
    return tmp_path


@pytest.fixture
def whole_app(built_pages: Path) -> Iterator[ReflexServer]:
    """The API beside a UI that serves ``built_pages`` as Reflex serves a production build,
    on a real server (streams arrive as they are sent)."""
    ui = PrecompressedStaticFiles(directory=built_pages, html=True, encodings=["gzip"])
    server = ReflexServer(serve_beside(ui, pages=built_pages)).start()
    yield server
    server.stop()


async def test_every_response_carries_the_security_headers(
    sqlite_db: Engine, provider: FakeProvider, whole_app: ReflexServer
) -> None:
    caller = sign_in(make_user())
    make_model(provider.base_url)
    async with httpx.AsyncClient(base_url=whole_app.url, timeout=10) as http:
        page = await http.get("/")
        assert page.status_code == 200
        assert INLINE_SCRIPT in page.text
        # The page's inline script is allowed by its hash, and only by that.
        assert sha256_source(INLINE_SCRIPT) in directive(assert_secured(page), "script-src")

        asset = await http.get("/assets/app.js", headers={"Accept-Encoding": "identity"})
        zipped = await http.get("/assets/app.js", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        missing_page = await http.get("/no/such/page")
        assert missing_page.status_code == 404
        models = await http.get("/api/models", headers=caller.headers)
        assert models.status_code == 200
        missing = await http.get("/api/no-such-route", headers=caller.headers)
        assert missing.json()["code"] == "error.not_found"
        unauthorized = await http.get("/v1/models")
        assert unauthorized.status_code == 401
        for response in (asset, zipped, missing_page, models, missing, unauthorized):
            assert_secured(response)

        provider.enqueue(ReplySpec(tokens=TOKENS, delay=TOKEN_DELAY))
        arrivals: list[float] = []
        async with http.stream(
            "GET", "/api/chat/stream", params={"message": "Count"}, headers=caller.headers
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert_secured(stream)
            texts: list[str] = []
            async for event in iter_events(stream.aiter_lines()):
                if event.name == "message" and event.data != "[DONE]":
                    texts.append(event.json()["text"])
                    arrivals.append(time.monotonic())
    assert "".join(texts) == "".join(TOKENS)
    # Token by token through the middleware, not all at once at the end.
    assert arrivals[-1] - arrivals[0] > TOKEN_DELAY * 2


async def test_the_api_docs_allow_exactly_what_swagger_ui_loads(
    whole_app: ReflexServer,
) -> None:
    async with httpx.AsyncClient(base_url=whole_app.url, timeout=10) as http:
        docs = await http.get("/api/docs")
    assert docs.status_code == 200
    policy = assert_secured(docs)
    inline = re.findall(r"<script>(.*?)</script>", docs.text, flags=re.DOTALL)
    assert len(inline) == 1
    assert "SwaggerUIBundle" in inline[0]
    assert directive(policy, "script-src") == ["'self'", SWAGGER_JS, sha256_source(inline[0])]
    assert directive(policy, "style-src") == ["'self'", "'unsafe-inline'", SWAGGER_CSS]
    assert f'src="{SWAGGER_JS}"' in docs.text
    assert f'href="{SWAGGER_CSS}"' in docs.text
    # No image from elsewhere: the app's own icon, and no validator badge.
    assert 'href="/favicon.ico"' in docs.text
    assert '"validatorUrl": null' in docs.text


def test_inline_script_hashes_cover_inline_scripts_only() -> None:
    page = (
        '<script src="/a.js"></script><script>one()</script>'
        '<script type="module">import "/b.js";</script><p>two()</p>'
    )
    assert inline_script_hashes(page) == [
        sha256_source("one()"),
        sha256_source('import "/b.js";'),
    ]
