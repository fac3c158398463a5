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
from llm_chat.security import InvalidTokenError, TokenClaims, decode_token
from llm_chat.services import api_keys, users
from llm_chat.services.users import UserInfo

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A sign-in token from `POST /api/auth/token`, or a personal API key (`llmc_…`) "
    "made on the settings page.",
)


def get_bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The bearer token of the request.

    Raises:
        AuthError: there is none (401).
    """
    token = credentials.credentials if credentials is not None else ""
    if not token:
        raise AuthError("auth.invalid_token")
    return token


BearerToken = Annotated[str, Depends(get_bearer_token)]


def sign_in_claims(token: str) -> TokenClaims:
    """What a sign-in token says, once its signature and expiry are checked (whether it
    was revoked is the database's to say).

    Raises:
        AuthError: a malformed, forged or expired token (401).
    """
    try:
        return decode_token(token, get_settings().jwt_secret)
    except InvalidTokenError as exc:
        raise AuthError("auth.invalid_token") from exc


async def get_current_user(token: BearerToken) -> UserInfo:
    """The active user the bearer token (a sign-in token or an API key) names.

    Raises:
        AuthError: no, malformed, expired or revoked token (401); disabled account (403).
    """
    if api_keys.looks_like_api_key(token):
        return await api_keys.authenticate_api_key(secret=token)
    claims = sign_in_claims(token)
    return await users.get_active_user(user_id=claims.user_id, token_version=claims.version)


CurrentUser = Annotated[UserInfo, Depends(get_current_user)]


def client_address(request: Request) -> str:
    """The caller's IP address ("" if unknown), as the websocket's is found (Reflex's
    ``router.session.client_ip``): the connection's peer or, behind
    ``LLM_CHAT_TRUSTED_PROXY_HOPS`` reverse proxies, the address the outermost one saw.

    Granian, which serves the app, leaves ``X-Forwarded-For`` alone, and a client can send
    one: each trusted proxy appends the address it saw, so the hops-th entry from the right
    is the first one no client could have written.
    """
    peer = request.client.host if request.client is not None else ""
    hops = get_settings().trusted_proxy_hops
    if not hops:
        return peer
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
    forwarded = [a for a in forwarded if a]
    return forwarded[-hops] if len(forwarded) >= hops else peer


ClientAddress = Annotated[str, Depends(client_address)]


def get_language(request: Request) -> str:
    """The caller's language, from ``Accept-Language``."""
    return negotiate(request.headers.get("accept-language", ""))


Language = Annotated[str, Depends(get_language)]
