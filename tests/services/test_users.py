"""Registration, sign-in and roles, on SQLite and MariaDB."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, NotFoundError, ValidationError
from llm_chat.models import Role, User
from llm_chat.services import users
from tests.support.factories import PASSWORD, disable_user, make_user


def _user_count() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(User)).one()


def test_register_then_authenticate(app_db: Engine) -> None:
    created = make_user("Ada@Example.com ")
    assert created.email == "ada@example.com"
    assert created.role == Role.USER
    with session_scope() as session:
        signed_in = users.authenticate.within(session, email="ADA@example.com", password=PASSWORD)
        stored = session.get(User, created.id)
    assert signed_in == created
    assert stored is not None
    assert stored.password_hash.startswith("$2b$")
    assert PASSWORD not in stored.password_hash


def test_duplicate_email_is_refused_whatever_its_case(app_db: Engine) -> None:
    make_user("bob@example.com")
    with pytest.raises(ValidationError) as caught, session_scope() as session:
        users.register_user.within(session, email="BOB@example.com", password="another-pass-99")
    assert caught.value.code == "auth.email_taken"
    assert _user_count() == 1


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [
        ("not-an-email", "long-enough-pass", "auth.invalid_email"),
        ("a@example.com", "short", "auth.password_too_short"),
        ("a@example.com", "password", "auth.password_too_weak"),
        ("a@example.com", "aaaaaaaaaaaa", "auth.password_too_weak"),
        ("carol@example.com", "carol@example.com", "auth.password_too_weak"),
        ("a@example.com", "x" * 300, "auth.password_too_long"),
    ],
)
def test_bad_registration_says_why_and_creates_nothing(
    app_db: Engine, email: str, password: str, code: str
) -> None:
    with pytest.raises(ValidationError) as caught, session_scope() as session:
        users.register_user.within(session, email=email, password=password)
    assert caught.value.code == code
    assert _user_count() == 0


def test_wrong_password_and_unknown_email_look_the_same(app_db: Engine) -> None:
    make_user("dan@example.com")
    codes = []
    for email, password in (
        ("dan@example.com", "wrong-password"),
        ("nobody@example.com", PASSWORD),
    ):
        with pytest.raises(AuthError) as caught, session_scope() as session:
            users.authenticate.within(session, email=email, password=password)
        codes.append(caught.value.code)
    assert codes == ["auth.bad_credentials", "auth.bad_credentials"]


def test_disabled_account_cannot_sign_in_or_use_its_token(app_db: Engine) -> None:
    user = make_user("eve@example.com")
    disable_user(user.id)
    with pytest.raises(AuthError) as caught, session_scope() as session:
        users.authenticate.within(session, email="eve@example.com", password=PASSWORD)
    assert caught.value.code == "auth.disabled"
    with pytest.raises(AuthError), session_scope() as session:
        users.get_active_user.within(session, user_id=user.id)


def test_roles_change_only_through_set_role(app_db: Engine) -> None:
    user = make_user("fay@example.com")
    with session_scope() as session:
        assert users.count_admins.within(session) == 0
        promoted = users.set_role.within(session, email="fay@example.com", role=Role.ADMIN)
    assert promoted.is_admin
    assert promoted.id == user.id
    with session_scope() as session:
        assert users.count_admins.within(session) == 1
    with pytest.raises(NotFoundError), session_scope() as session:
        users.set_role.within(session, email="ghost@example.com", role=Role.ADMIN)
