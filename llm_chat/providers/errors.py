"""Turning provider and network failures into short, user-facing codes."""

from __future__ import annotations

import aiohttp
import openai

# Codes are keys of the translation tables (llm_chat.i18n).
AUTH = "provider.auth"
RATE_LIMITED = "provider.rate_limited"
MODEL_NOT_FOUND = "provider.model_not_found"
BAD_REQUEST = "provider.bad_request"
TIMEOUT = "provider.timeout"
UNREACHABLE = "provider.unreachable"
SERVER = "provider.server_error"
INTERRUPTED = "provider.interrupted"
UNAVAILABLE = "provider.model_unavailable"
UNKNOWN = "provider.unknown"


class ProviderError(Exception):
    """A provider call failed; ``code`` says how, for the user."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


def classify_provider_error(exc: BaseException) -> str:
    """The user-facing code for an exception raised while calling a provider."""
    if isinstance(exc, ProviderError):
        return exc.code
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return AUTH
    if isinstance(exc, openai.RateLimitError):
        return RATE_LIMITED
    if isinstance(exc, openai.NotFoundError):
        return MODEL_NOT_FOUND
    if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        return BAD_REQUEST
    if isinstance(exc, openai.APITimeoutError) and _timed_out(exc):
        return TIMEOUT
    if isinstance(exc, openai.APIConnectionError):
        return UNREACHABLE
    if isinstance(exc, openai.InternalServerError | openai.APIStatusError):
        return SERVER
    if isinstance(exc, openai.APIError):
        return SERVER
    return UNKNOWN


def _timed_out(exc: openai.APITimeoutError) -> bool:
    """Whether a request the SDK calls timed out really did.

    The SDK's aiohttp transport also reports a refused or dropped connection as a connect
    timeout; the aiohttp error it was raised from tells them apart.
    """
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientError):
            return isinstance(cause, TimeoutError)
        cause = cause.__cause__
    return True
