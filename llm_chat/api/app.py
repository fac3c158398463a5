"""The FastAPI app that serves the API, beside the UI on the same port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from reflex.constants import Dirs
from reflex.utils.prerequisites import get_web_dir
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from llm_chat.api.docs import add_docs
from llm_chat.api.errors import API_PREFIX, OPENAI_PREFIX, install_error_handlers
from llm_chat.api.limits import BodyLimitMiddleware
from llm_chat.api.routes import (
    admin,
    admin_signup,
    admin_usage,
    admin_users,
    auth,
    chat,
    conversations,
    models,
    openai_compat,
    usage,
)
from llm_chat.api.security_headers import (
    APP_POLICY,
    SecurityHeadersMiddleware,
    page_script_hashes,
    security_headers,
    with_sources,
)
from llm_chat.providers.client import provider_connections

DESCRIPTION = """\
The same conversations, models and rules as the web app.

Authenticate with `Authorization: Bearer <token>`: a sign-in token from
`POST /api/auth/token`, or a personal API key (`llmc_…`) made on the settings page.
`/v1/...` speaks OpenAI's chat completions API, so OpenAI clients and SDKs work with
`base_url=<this server>/v1` and a personal API key.
"""
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_OPENAPI_URL = "/api/openapi.json"


def _answer_unmatched(routers: list[APIRouter]) -> Callable[[Request], None]:
    """The endpoint for any other request under the API's prefixes.

    It answers 405 with every method the path has in ``Allow``, else 404. Without it the
    UI mounted under the API would answer, and Starlette's own 405 lists only the methods
    of the first route that matches the path.
    """
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]

    def unmatched(request: Request) -> None:
        path = request.url.path
        allowed = {m for r in routes if r.path_regex.match(path) for m in r.methods or ()}
        if allowed:
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        raise HTTPException(status_code=404)

    return unmatched


@contextlib.asynccontextmanager
async def _lifespan(_api: FastAPI) -> AsyncIterator[None]:
    """Served on its own (tests): the provider connections. Mounted in the Reflex app, whose
    lifespan does this, it does not run."""
    async with provider_connections():
        yield


def create_api() -> FastAPI:
    """A new API app (docs at ``/api/docs``, schema at ``/api/openapi.json``)."""
    api = FastAPI(
        lifespan=_lifespan,
        title="LLM Chat API",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,  # served by add_docs, with a policy of its own
        redoc_url=None,
        openapi_url=_OPENAPI_URL,
    )
    install_error_handlers(api)
    add_docs(api, "/api/docs", openapi_url=_OPENAPI_URL)
    routers = [
        m.router
        for m in (
            auth,
            models,
            conversations,
            chat,
            openai_compat,
            usage,
            admin,
            admin_users,
            admin_signup,
            admin_usage,
        )
    ]
    for router in routers:
        api.include_router(router)
    unmatched = _answer_unmatched(routers)
    for prefix in (API_PREFIX, OPENAI_PREFIX):
        api.add_api_route(
            prefix + "{path:path}", unmatched, methods=_METHODS, include_in_schema=False
        )
    api.add_middleware(BodyLimitMiddleware, prefixes=(API_PREFIX, OPENAI_PREFIX))
    return api


def built_pages() -> Path:
    """Where ``reflex run --env prod`` builds the pages it serves (before the back end starts)."""
    return get_web_dir() / Dirs.STATIC


def serve_beside(ui: ASGIApp, *, pages: Path | None = None) -> ASGIApp:
    """Reflex's ``api_transformer``: the API and the UI (Reflex's back end) on one port.

    HTTP requests go to the API app, which passes what is not its own to the UI mounted
    under it. Websocket connections go to the UI directly: the API has none, and the UI's
    connection (socket.io at ``/_event``) is long-lived. Through the API's middleware stack
    each one held ~10 KB of coroutine frames for as long as the tab was open, and every
    frame the UI sent passed through the stack's wrappers of ``send``.

    Every HTTP response gets the security headers; the policy allows the inline scripts of
    the pages built into ``pages`` (default: :func:`built_pages`) by their hashes.
    """
    api = create_api()
    api.mount("", ui)
    script_hashes = page_script_hashes(pages or built_pages())
    http = SecurityHeadersMiddleware(
        api, security_headers(with_sources(APP_POLICY, {"script-src": script_hashes}))
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await ui(scope, receive, send)
        else:
            await http(scope, receive, send)

    return app
