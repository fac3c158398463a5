"""Personal API keys: shown once, stored hashed, revocable, tied to an active account."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, NotFoundError, ValidationError
from llm_chat.models import ApiKey
from llm_chat.services import api_keys
from tests.support.factories import disable_user, make_user


def _create(user_id: int, name: str = "laptop") -> api_keys.CreatedApiKey:
    with session_scope() as session:
        return api_keys.create_api_key.within(session, user_id=user_id, name=name)


def _authenticate(secret: str) -> int:
    with session_scope() as session:
        return api_keys.authenticate_api_key.within(session, secret=secret).id


def test_a_new_key_is_returned_once_and_only_its_hash_is_stored(app_db: Engine) -> None:
    user = make_user()
    created = _create(user.id, "  my   laptop ")
    assert created.secret.startswith("llmc_")
    assert len(created.secret) > 40
    assert created.info.name == "my laptop"
    assert created.info.prefix == created.secret[:12]
    assert created.secret not in repr(created)
    with session_scope() as session:
        row = session.exec(select(ApiKey)).one()
        stored = [str(value) for value in row.model_dump().values()]
    assert row.key_hash == hashlib.sha256(created.secret.encode()).hexdigest()
    assert not any(created.secret in value for value in stored)
    assert _authenticate(created.secret) == user.id


def test_keys_are_listed_newest_first_without_secrets(app_db: Engine) -> None:
    user, other = make_user(), make_user()
    first, second = _create(user.id, "one"), _create(user.id, "two")
    _create(other.id, "someone else's")
    with session_scope() as session:
        listed = api_keys.list_api_keys.within(session, user_id=user.id)
    assert [k.name for k in listed] == ["two", "one"]
    assert [k.id for k in listed] == [second.info.id, first.info.id]
    assert all(k.last_used_at is None for k in listed)


def test_use_is_noted_at_most_once_a_minute(app_db: Engine) -> None:
    user = make_user()
    created = _create(user.id)
    _authenticate(created.secret)
    with session_scope() as session:
        row = session.get(ApiKey, created.info.id)
        assert row is not None
        assert row.last_used_at is not None
        first_use = row.last_used_at
    _authenticate(created.secret)
    with session_scope() as session:
        row = session.get(ApiKey, created.info.id)
        assert row is not None
        assert row.last_used_at == first_use
        row.last_used_at = first_use - timedelta(minutes=2)
        session.add(row)
    _authenticate(created.secret)
    with session_scope() as session:
        row = session.get(ApiKey, created.info.id)
        assert row is not None
        assert row.last_used_at is not None
        assert row.last_used_at > first_use - timedelta(minutes=1)


def test_revoked_keys_stop_working_and_only_the_owner_can_revoke(app_db: Engine) -> None:
    user, other = make_user(), make_user()
    created = _create(user.id)
    with pytest.raises(NotFoundError), session_scope() as session:
        api_keys.revoke_api_key.within(session, user_id=other.id, key_id=created.info.id)
    assert _authenticate(created.secret) == user.id
    with session_scope() as session:
        api_keys.revoke_api_key.within(session, user_id=user.id, key_id=created.info.id)
    with pytest.raises(AuthError) as caught:
        _authenticate(created.secret)
    assert caught.value.code == "auth.invalid_api_key"
    with session_scope() as session:
        assert api_keys.list_api_keys.within(session, user_id=user.id) == []
    with pytest.raises(NotFoundError), session_scope() as session:
        api_keys.revoke_api_key.within(session, user_id=user.id, key_id=created.info.id)


@pytest.mark.parametrize("secret", ["", "llmc_", "llmc_not-a-real-key", "sk-something"])
def test_unknown_keys_are_refused(app_db: Engine, secret: str) -> None:
    with pytest.raises(AuthError) as caught:
        _authenticate(secret)
    assert caught.value.code == "auth.invalid_api_key"


def test_a_disabled_account_s_keys_are_refused(app_db: Engine) -> None:
    user = make_user()
    created = _create(user.id)
    disable_user(user.id)
    with pytest.raises(AuthError) as caught:
        _authenticate(created.secret)
    assert caught.value.code == "auth.disabled"


@pytest.mark.parametrize(
    ("name", "code"),
    [("", "settings.key_name_empty"), ("   ", "settings.key_name_empty"),
     ("x" * 101, "settings.key_name_too_long")],
)  # fmt: skip
def test_names_are_checked(app_db: Engine, name: str, code: str) -> None:
    user = make_user()
    with pytest.raises(ValidationError) as caught:
        _create(user.id, name)
    assert caught.value.code == code


def test_a_user_has_a_bounded_number_of_keys(
    sqlite_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_keys, "MAX_KEYS_PER_USER", 2)
    user = make_user()
    first = _create(user.id)
    _create(user.id)
    with pytest.raises(ValidationError) as caught:
        _create(user.id)
    assert caught.value.code == "settings.too_many_keys"
    with session_scope() as session:
        api_keys.revoke_api_key.within(session, user_id=user.id, key_id=first.info.id)
    _create(user.id)
