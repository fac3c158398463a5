"""The API's interactive docs: Swagger UI, under a policy that allows exactly what it loads."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

from llm_chat.api.security_headers import (
    APP_POLICY,
    CSP_HEADER,
    inline_script_hashes,
    render_policy,
    with_sources,
)

# FastAPI's defaults, named here because the page's policy lists them.
SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
# The app's own icon, not FastAPI's from its website.
FAVICON = "/favicon.ico"


def add_docs(api: FastAPI, path: str, *, openapi_url: str) -> None:
    """Serve Swagger UI for the schema at ``openapi_url`` at ``path`` (``docs_url=None``)."""

    async def docs(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root_path + openapi_url,
            title=f"{api.title} - Swagger UI",
            swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS,
            swagger_favicon_url=FAVICON,
            # No badge image from validator.swagger.io (which would also fetch our schema).
            swagger_ui_parameters={"validatorUrl": None},
        )
        html = bytes(page.body).decode()
        # The bundle and stylesheet from the CDN, and the page's one inline script (which
        # starts the UI), by its hash. The rest of the app's policy stands.
        policy = with_sources(
            APP_POLICY,
            {"script-src": (SWAGGER_JS, *inline_script_hashes(html)), "style-src": (SWAGGER_CSS,)},
        )
        return HTMLResponse(html, headers={CSP_HEADER: render_policy(policy)})

    api.add_route(path, docs, include_in_schema=False)
