"""The router of an ``/api/admin`` route group: admins only, said once in the API docs."""

from __future__ import annotations

from fastapi import APIRouter

from llm_chat.api.schemas import ErrorOut, error_responses

FORBIDDEN = {403: {"model": ErrorOut, "description": "Not an admin, or the account is disabled"}}


def admin_router(prefix: str = "/api/admin") -> APIRouter:
    """A router under ``prefix`` whose every route documents 401, 403 (not an admin) and 422."""
    return APIRouter(
        prefix=prefix, tags=["admin"], responses={**error_responses(401, 422), **FORBIDDEN}
    )
