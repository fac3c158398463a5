"""Typed dependencies: the request's caller and its language.

A request holds no database session: each service call takes a pooled connection for its
own short transaction and gives it back before the next (a request that held one while
waiting for another ran the pool dry under concurrent chats).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from llm_chat.config import get_settings
from llm_chat.errors import AuthError
from llm_chat.i18n import negotiate
from llm_chat.security import InvalidTokenError, decode_token
from llm_chat.services import api_keys, users
from llm_chat.services.users import UserInfo

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A sign-in token from `POST /api/auth/token`, or a personal API key (`llmc_…`) "
    "made on the settings page.",
)


async def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> UserInfo:
    """The active user the bearer token names.

    Raises:
        AuthError: no, malformed, expired or revoked token (401); disabled account (403).
    """
    token = credentials.credentials if credentials is not None else ""
    if not token:
        raise AuthError("auth.invalid_token")
    if api_keys.looks_like_api_key(token):
        return await api_keys.authenticate_api_key(secret=token)
    try:
        claims = decode_token(token, get_settings().jwt_secret)
    except InvalidTokenError as exc:
        raise AuthError("auth.invalid_token") from exc
    return await users.get_active_user(user_id=claims.user_id)


CurrentUser = Annotated[UserInfo, Depends(get_current_user)]


def get_language(request: Request) -> str:
    """The caller's language, from ``Accept-Language``."""
    return negotiate(request.headers.get("accept-language", ""))


Language = Annotated[str, Depends(get_language)]
