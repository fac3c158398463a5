"""Errors the services raise for the user to read.

Each carries a ``code`` that is also a key of the translation tables (``llm_chat.i18n``),
so the UI and the API can show it in the reader's language. Details that could leak
internals (stack traces, provider bodies, SQL) stay in the server log.
"""

from __future__ import annotations

import math


class AppError(Exception):
    """A failure the user caused or can act on; ``code`` names it."""

    code: str = "error.generic"

    def __init__(self, code: str | None = None, detail: str = "") -> None:
        self.code = code or self.code
        self.detail = detail
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class ValidationError(AppError):
    """Input that cannot be accepted as it is."""

    code = "error.invalid_input"


class AuthError(AppError):
    """Missing, wrong or expired credentials."""

    code = "error.auth_required"


class ForbiddenError(AppError):
    """The signed-in user may not do this."""

    code = "error.forbidden"


class NotFoundError(AppError):
    """No such object, or not the caller's (the two are never told apart)."""

    code = "error.not_found"


class LimitError(AppError):
    """The user is over a limit for now (too many replies at once); trying later works."""

    code = "error.limit"


class RateLimitedError(AppError):
    """Too many attempts lately: try again in ``retry_after`` seconds.

    Its text takes ``{minutes}``: :attr:`retry_minutes`.
    """

    code = "auth.too_many_attempts"

    def __init__(self, retry_after: int, code: str | None = None) -> None:
        super().__init__(code, detail=f"retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def retry_minutes(self) -> int:
        """The wait in whole minutes, rounded up."""
        return math.ceil(self.retry_after / 60)
