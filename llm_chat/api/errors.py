"""Errors as the API answers them: ``{detail, code}`` under /api, OpenAI's shape under /v1.

Messages come from the translation tables, in the caller's language; nothing internal
(stack traces, SQL, provider bodies) is ever sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from llm_chat.errors import (
    AppError,
    AuthError,
    ForbiddenError,
    LimitError,
    NotFoundError,
    RateLimitedError,
)
from llm_chat.i18n import negotiate, translate
from llm_chat.providers import ProviderError
from llm_chat.providers import errors as provider_errors

API_PREFIX = "/api/"
OPENAI_PREFIX = "/v1/"

# Provider failures: the upstream's fault is a bad gateway, except throttling and
# requests the provider found invalid.
PROVIDER_STATUS: Mapping[str, int] = {
    provider_errors.RATE_LIMITED: 429,
    provider_errors.BAD_REQUEST: 400,
    provider_errors.TIMEOUT: 504,
    provider_errors.UNAVAILABLE: 404,
}
_OPENAI_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
# Codes OpenAI's clients know, for ours that mean the same.
_OPENAI_CODES: Mapping[str, str] = {
    provider_errors.UNAVAILABLE: "model_not_found",
    "auth.invalid_token": "invalid_api_key",
    "auth.invalid_api_key": "invalid_api_key",
}
_HTTP_CODES: Mapping[int, str] = {
    404: "error.not_found",
    405: "api.method_not_allowed",
    413: "api.body_too_large",
}


def is_openai_path(request: Request) -> bool:
    """Whether the request is for the OpenAI-compatible routes."""
    return request.url.path.startswith(OPENAI_PREFIX)


def language_of(request: Request) -> str:
    """The caller's language, from ``Accept-Language``."""
    return negotiate(request.headers.get("accept-language", ""))


def provider_status(code: str, *, openai: bool) -> int:
    """The HTTP status for a provider failure code."""
    if code == provider_errors.UNAVAILABLE and not openai:
        return 422  # the caller named a model it may not use: bad input
    return PROVIDER_STATUS.get(code, 502)


def openai_error(status: int, code: str, message: str, *, param: str | None = None) -> JSONResponse:
    """An error as OpenAI's API sends it."""
    error_type = _OPENAI_TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    body = {
        "error": {
            "message": message,
            "type": error_type,
            "param": param,
            "code": _OPENAI_CODES.get(code, code),
        }
    }
    return JSONResponse(body, status_code=status, headers=_auth_headers(status))


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """The error body for ``request``'s family of routes."""
    text = message if message is not None else translate(language_of(request), code)
    if is_openai_path(request):
        param = ".".join(str(p) for p in errors[0]["loc"]) if errors else None
        return openai_error(status, code, text, param=param)
    body: dict[str, Any] = {"detail": text, "code": code}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=_auth_headers(status))


def _auth_headers(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else None


def app_error_status(exc: AppError) -> int:
    """The HTTP status for a service error."""
    if isinstance(exc, RateLimitedError):
        return 429
    if isinstance(exc, AuthError):
        # The credentials were right: the account may not sign in (yet).
        return 403 if exc.code in ("auth.disabled", "auth.pending_approval") else 401
    if isinstance(exc, ForbiddenError):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, LimitError):
        return 429
    return 422


async def _on_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if isinstance(exc, RateLimitedError):
        text = translate(language_of(request), exc.code).format(minutes=exc.retry_minutes)
        response = error_response(request, 429, exc.code, text)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return error_response(request, app_error_status(exc), exc.code)


async def _on_provider_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProviderError)
    status = provider_status(exc.code, openai=is_openai_path(request))
    return error_response(request, status, exc.code)


def _readable(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    return error_response(request, 422, "error.invalid_input", _readable(errors), errors=errors)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if not (path.startswith(API_PREFIX) or path.startswith(OPENAI_PREFIX)):
        return await http_exception_handler(request, exc)  # the UI's routes, as before
    code = _HTTP_CODES.get(exc.status_code)
    if code is None:
        code = "error.generic" if exc.status_code >= 500 else "error.invalid_input"
    response = error_response(request, exc.status_code, code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure of the API answer in its documented shape."""
    app.add_exception_handler(AppError, _on_app_error)
    app.add_exception_handler(ProviderError, _on_provider_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
