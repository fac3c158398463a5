"""Personal API keys: made once, stored as a hash, revocable, checked on every API call."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from llm_chat.db import short_transaction, transaction
from llm_chat.errors import AuthError, NotFoundError, ValidationError
from llm_chat.models import ApiKey
from llm_chat.models.api_key import API_KEY_NAME_MAX_LENGTH
from llm_chat.models.base import utcnow
from llm_chat.services.users import UserInfo, get_active_user

KEY_PREFIX = "llmc_"
# What the settings page shows of a key: "llmc_" and 7 random characters.
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 7
MAX_KEYS_PER_USER = 50
# ``last_used_at`` is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as its owner sees it listed: never the key itself."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key: ``secret`` is shown once and cannot be recovered."""

    info: ApiKeyInfo
    secret: str

    def __repr__(self) -> str:
        return f"CreatedApiKey(info={self.info!r})"


def looks_like_api_key(token: str) -> bool:
    """Whether a bearer token is one of our API keys (rather than a sign-in JWT)."""
    return token.startswith(KEY_PREFIX)


def hash_key(secret: str) -> str:
    """The stored form of a key. Keys are 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(key: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=key.id or 0,
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )


@transaction
def create_api_key(session: Session, *, user_id: int, name: str) -> CreatedApiKey:
    """Make a key for ``user_id``; the plaintext is in the result and nowhere else.

    Raises:
        ValidationError: an empty or overlong name, or too many keys.
    """
    name = " ".join(name.split())
    if not name:
        raise ValidationError("settings.key_name_empty")
    if len(name) > API_KEY_NAME_MAX_LENGTH:
        raise ValidationError("settings.key_name_too_long")
    active = session.exec(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
    ).one()
    if active >= MAX_KEYS_PER_USER:
        raise ValidationError("settings.too_many_keys")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        user_id=user_id,
        name=name,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        key_hash=hash_key(secret),
    )
    session.add(key)
    session.flush()
    return CreatedApiKey(info=_info(key), secret=secret)


@transaction
def list_api_keys(session: Session, *, user_id: int) -> list[ApiKeyInfo]:
    """The user's keys that still work, newest first."""
    rows = session.exec(
        select(ApiKey)
        .where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    ).all()
    return [_info(key) for key in rows]


@transaction
def revoke_api_key(session: Session, *, user_id: int, key_id: int) -> None:
    """Make the key stop working at once (the row stays, marked revoked).

    Raises:
        NotFoundError: no such key of this user, or it is revoked already.
    """
    key = session.get(ApiKey, key_id)
    if key is None or key.user_id != user_id or key.revoked_at is not None:
        raise NotFoundError("settings.key_not_found")
    key.revoked_at = utcnow()
    session.add(key)


@short_transaction
def authenticate_api_key(session: Session, *, secret: str) -> UserInfo:
    """The active user a key belongs to; notes when the key was last used.

    Raises:
        AuthError: ``auth.invalid_api_key`` for an unknown or revoked key,
            ``auth.disabled`` if its owner's account is disabled.
    """
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(secret))).first()
    if key is None or key.revoked_at is not None:
        raise AuthError("auth.invalid_api_key")
    user = get_active_user.within(session, user_id=key.user_id)
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
    return user
