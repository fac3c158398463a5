"""``/api/auth``: sign in with email and password, and out; the user's own account."""

from __future__ import annotations

from fastapi import APIRouter, Response

from llm_chat.api.deps import BearerToken, ClientAddress, CurrentUser, sign_in_claims
from llm_chat.api.schemas import (
    ErrorOut,
    PasswordIn,
    ProfileIn,
    TokenIn,
    TokenOut,
    UserOut,
    error_responses,
)
from llm_chat.config import get_settings
from llm_chat.errors import ValidationError
from llm_chat.services import api_keys, sessions, users

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


@router.get("/me", responses=error_responses(401, 403))
async def me(user: CurrentUser) -> UserOut:
    """The signed-in user (of a sign-in token or a personal API key)."""
    return UserOut.of(user)


@router.patch("/me", responses=error_responses(400, 401, 403, 413, 422))
async def update_me(body: ProfileIn, user: CurrentUser) -> UserOut:
    """Change the user's own display name."""
    return UserOut.of(await users.update_profile(user_id=user.id, display_name=body.display_name))


@router.post(
    "/password",
    responses={
        **error_responses(400, 401, 403, 413),
        422: {"model": ErrorOut, "description": "A wrong current password, or a weak new one"},
    },
)
async def change_password(body: PasswordIn, user: CurrentUser) -> TokenOut:
    """Set a new password. Every sign-in token of the account stops working (other
    browsers, devices and clients sign in again); the answer holds a new one for this
    client. Personal API keys keep working."""
    changed = await users.change_password(
        user_id=user.id, current=body.current_password, new=body.new_password
    )
    return TokenOut(
        access_token=sessions.token_for(changed), expires_in=get_settings().jwt_ttl_seconds
    )
