"""``POST /api/auth/token`` and ``/logout``: sign in with email and password, and out."""

from __future__ import annotations

from fastapi import APIRouter, Response

from llm_chat.api.deps import BearerToken, ClientAddress, sign_in_claims
from llm_chat.api.schemas import ErrorOut, TokenIn, TokenOut, error_responses
from llm_chat.config import get_settings
from llm_chat.errors import ValidationError
from llm_chat.services import api_keys, sessions

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/token",
    responses={
        **error_responses(400, 403, 413, 422),
        401: {"model": ErrorOut, "description": "Wrong email or password"},
        429: {
            "model": ErrorOut,
            "description": "Too many failed sign-ins for this account or from this address "
            "lately: try again after `Retry-After` seconds",
        },
    },
)
async def issue_token(body: TokenIn, address: ClientAddress) -> TokenOut:
    """Sign in: the same token the web app uses, valid for ``expires_in`` seconds."""
    user = await sessions.sign_in(email=body.email, password=body.password, address=address)
    return TokenOut(
        access_token=sessions.token_for(user), expires_in=get_settings().jwt_ttl_seconds
    )


@router.post(
    "/logout",
    status_code=204,
    responses={
        **error_responses(401),
        422: {"model": ErrorOut, "description": "A personal API key, not a sign-in token"},
    },
)
async def logout(token: BearerToken) -> Response:
    """Sign out: the token sent stops working at once, and so does every other sign-in token
    of the account (other devices sign in again). Personal API keys keep working: revoke
    those on the settings page."""
    if api_keys.looks_like_api_key(token):
        raise ValidationError("auth.logout_needs_token")
    claims = sign_in_claims(token)
    await sessions.sign_out(user_id=claims.user_id, token_version=claims.version)
    return Response(status_code=204)
