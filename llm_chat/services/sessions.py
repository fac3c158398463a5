"""Sign-in sessions: signing in (with limits), the tokens the doors hand out, and ending them.

A sign-in token is a JWT that names its user and carries the user's token version
(``User.token_version``). Every use checks the version against the database
(:func:`llm_chat.services.users.get_active_user`), so raising it ends every token issued
before, on every worker, at once: signing out, a new password, an admin's "sign out
everywhere".
"""

from __future__ import annotations

from sqlmodel import Session

from llm_chat.config import get_settings
from llm_chat.db import short_transaction, transaction
from llm_chat.errors import AuthError, NotFoundError, RateLimitedError
from llm_chat.models import AuditAction, AuditTarget, User
from llm_chat.security import create_token
from llm_chat.services import audit, sign_in_limits
from llm_chat.services.access import require_admin
from llm_chat.services.users import (
    UserInfo,
    authenticate,
    get_active_user,
    normalize_email,
    revoke_tokens,
)


async def sign_in(*, email: str, password: str, address: str) -> UserInfo:
    """The user with these credentials, unless the account or the client address failed
    too often lately (see :mod:`llm_chat.services.sign_in_limits`). Slow (bcrypt).

    Args:
        email: As typed.
        password: As typed.
        address: The client's IP address ("" if unknown: then only the account counts).

    Raises:
        RateLimitedError: too many failures lately; the password was not checked, so the
            answer is the same whether it was right.
        AuthError: as :func:`llm_chat.services.users.authenticate`.
    """
    email = normalize_email(email)
    await sign_in_limits.forget_old_attempts()
    attempt = await sign_in_limits.record_attempt(email=email, address=address)
    wait = await sign_in_limits.admit(attempt_id=attempt, email=email, address=address)
    if wait:
        raise RateLimitedError(retry_after=wait)
    user = await authenticate(email=email, password=password)
    await sign_in_limits.forget_failures(email=email)
    return user


def token_for(user: UserInfo) -> str:
    """A sign-in token for ``user`` (as just signed in), valid for the configured lifetime."""
    settings = get_settings()
    return create_token(
        user.id, settings.jwt_secret, settings.jwt_ttl_seconds, version=user.token_version
    )


@short_transaction
def sign_out(session: Session, *, user_id: int, token_version: int) -> None:
    """End the session of a token: it, and every other sign-in token of the user, stop
    working (a token cannot be told from the user's other ones). API keys stay valid.

    Raises:
        AuthError: ``auth.invalid_token``: the token was revoked already (a stale token
            cannot end the sessions that came after it).
    """
    if not revoke_tokens(session, user_id=user_id, token_version=token_version):
        raise AuthError("auth.invalid_token")


@short_transaction
def sign_out_others(session: Session, *, user_id: int, token_version: int) -> UserInfo:
    """End every other sign-in session of the user: every token stops working, and the
    returned user is the one to issue this session's new token for (:func:`token_for`).

    Raises:
        AuthError: ``auth.invalid_token``: the token was revoked already; or the account is
            gone or disabled.
    """
    if not revoke_tokens(session, user_id=user_id, token_version=token_version):
        raise AuthError("auth.invalid_token")
    return get_active_user.within(session, user_id=user_id)


@transaction
def sign_out_everywhere(session: Session, *, actor: UserInfo, user_id: int) -> None:
    """End every sign-in session of user ``user_id`` (API keys stay valid).

    Raises:
        AuthError: the actor's account is gone or disabled.
        ForbiddenError: the actor is not an admin.
        NotFoundError: ``auth.no_such_user``.
    """
    require_admin(session, actor)
    if not revoke_tokens(session, user_id=user_id):
        raise NotFoundError("auth.no_such_user")
    user = session.get(User, user_id)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_SIGN_OUT_EVERYWHERE,
        target_type=AuditTarget.USER,
        target_id=user_id,
        target_name=user.email if user else "",
    )
