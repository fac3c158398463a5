"""``POST /api/auth/token``: email and password for a sign-in token."""

from __future__ import annotations

from fastapi import APIRouter

from llm_chat.api.schemas import ErrorOut, TokenIn, TokenOut, error_responses
from llm_chat.config import get_settings
from llm_chat.security import create_token
from llm_chat.services import users

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/token",
    responses={
        **error_responses(400, 403, 413, 422),
        401: {"model": ErrorOut, "description": "Wrong email or password"},
    },
)
async def issue_token(body: TokenIn) -> TokenOut:
    """Sign in: the same token the web app uses, valid for ``expires_in`` seconds."""
    user = await users.authenticate(email=body.email, password=body.password)
    settings = get_settings()
    return TokenOut(
        access_token=create_token(user.id, settings.jwt_secret, settings.jwt_ttl_seconds),
        expires_in=settings.jwt_ttl_seconds,
    )
