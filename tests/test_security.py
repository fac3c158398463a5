"""Password hashing, tokens and API-key encryption."""

from __future__ import annotations

import jwt
import pytest

from llm_chat.security import (
    InvalidTokenError,
    SecretBox,
    create_token,
    decode_token,
    hash_password,
    verify_password,
)

SECRET = "x" * 64


def test_password_hash_verifies_only_the_right_password() -> None:
    hashed = hash_password("correct horse battery", rounds=4)
    assert hashed.startswith("$2b$04$")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("correct horse batterY", hashed)
    assert not verify_password("anything", "not-a-hash")


def test_passwords_longer_than_72_bytes_are_not_truncated() -> None:
    base = "a" * 80
    hashed = hash_password(base, rounds=4)
    assert verify_password(base, hashed)
    assert not verify_password(base[:72] + "b" * 8, hashed)


def test_token_round_trip_and_expiry() -> None:
    token = create_token(7, SECRET, ttl_seconds=60, version=3)
    claims = decode_token(token, SECRET)
    assert (claims.user_id, claims.version) == (7, 3)
    expired = create_token(7, SECRET, ttl_seconds=60, now=1_000_000)
    with pytest.raises(InvalidTokenError):
        decode_token(expired, SECRET)


# Claims that would be accepted, signed right.
VALID_CLAIMS = {"sub": "1", "ver": 0, "iat": 1, "exp": 9_999_999_999}


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not.a.token",
        jwt.encode({**VALID_CLAIMS}, "y" * 64, algorithm="HS256"),
        jwt.encode({"sub": "1", "ver": 0, "iat": 1}, SECRET, algorithm="HS256"),  # no expiry
        # No version: issued before tokens could be revoked.
        jwt.encode({"sub": "1", "iat": 1, "exp": 9_999_999_999}, SECRET, algorithm="HS256"),
        jwt.encode({**VALID_CLAIMS}, SECRET, algorithm="HS512"),
        jwt.encode({**VALID_CLAIMS}, None, algorithm="none"),  # type: ignore[arg-type]
    ],
)
def test_forged_or_incomplete_tokens_are_rejected(token: str) -> None:
    assert decode_token(jwt.encode(VALID_CLAIMS, SECRET, algorithm="HS256"), SECRET).version == 0
    with pytest.raises(InvalidTokenError):
        decode_token(token, SECRET)


def test_secret_box_round_trip_and_tamper_detection() -> None:
    box = SecretBox(SECRET)
    sealed = box.encrypt("sk-live-123")
    assert "sk-live-123" not in sealed
    assert box.decrypt(sealed) == "sk-live-123"
    assert box.encrypt("") == ""
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox("z" * 48).decrypt(sealed)
