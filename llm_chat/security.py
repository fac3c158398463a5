"""Password hashing, JWTs and encryption of provider API keys."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

import bcrypt
import jwt
from cryptography.fernet import Fernet, InvalidToken

JWT_ALGORITHM = "HS256"
BCRYPT_ROUNDS = 12
# bcrypt only looks at the first 72 bytes; longer passwords are pre-hashed.
_BCRYPT_MAX_BYTES = 72


def _password_bytes(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) > _BCRYPT_MAX_BYTES:
        raw = base64.b64encode(hashlib.sha256(raw).digest())
    return raw


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """A bcrypt hash of ``password`` (slow: call it off the event loop)."""
    return bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (slow: call it off the event loop)."""
    try:
        return bcrypt.checkpw(_password_bytes(password), password_hash.encode("ascii"))
    except ValueError:
        return False


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash checked for unknown emails, so timing does not tell who is registered."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says."""

    user_id: int
    expires_at: int
    # The user's token version when it was issued; a newer one in the database revokes it.
    version: int


class InvalidTokenError(Exception):
    """The token is missing, malformed, forged or expired."""


def create_token(
    user_id: int,
    secret: str,
    ttl_seconds: int,
    *,
    version: int = 0,
    now: float | None = None,
) -> str:
    """A signed JWT for ``user_id`` that expires after ``ttl_seconds``.

    ``version`` is the user's token version (``User.token_version``): the token stops
    working when it goes up (sign out, a new password).
    """
    issued = int(now if now is not None else time.time())
    payload = {"sub": str(user_id), "ver": version, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_token(token: str, secret: str) -> TokenClaims:
    """Verify ``token`` and return its claims.

    Raises:
        InvalidTokenError: for any token that is not valid now.
    """
    if not token:
        raise InvalidTokenError("missing token")
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            # Tokens without a version (issued before tokens could be revoked) are refused.
            options={"require": ["exp", "iat", "sub", "ver"]},
        )
        return TokenClaims(
            user_id=int(payload["sub"]),
            expires_at=int(payload["exp"]),
            version=int(payload["ver"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidTokenError(str(exc)) from exc


class SecretBox:
    """Encrypts provider API keys at rest (Fernet keyed from a configured secret)."""

    def __init__(self, secret: str) -> None:
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext``; empty stays empty."""
        if not plaintext:
            return ""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt what :meth:`encrypt` produced; raises ``ValueError`` if it was tampered with."""
        if not ciphertext:
            return ""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("API key cannot be decrypted with the configured key") from exc
