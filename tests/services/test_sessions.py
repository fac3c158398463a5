"""Sign-in sessions end at once when the user signs out, changes the password, or an admin
says so; on SQLite and MariaDB."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, ForbiddenError, NotFoundError, ValidationError
from llm_chat.models import Role
from llm_chat.services import sessions, users
from tests.support.factories import PASSWORD, make_user


def _refused(user_id: int, token_version: int) -> bool:
    """Whether a sign-in token of ``token_version`` is refused as revoked."""
    try:
        with session_scope() as session:
            users.get_active_user.within(session, user_id=user_id, token_version=token_version)
    except AuthError as exc:
        return exc.code == "auth.invalid_token"
    return False


def test_sign_out_revokes_the_token_it_is_given(app_db: Engine) -> None:
    user = make_user("gil@example.com")
    assert user.token_version == 0
    assert not _refused(user.id, 0)
    with session_scope() as session:
        sessions.sign_out.within(session, user_id=user.id, token_version=0)
    assert _refused(user.id, 0)
    with session_scope() as session:
        fresh = users.authenticate.within(session, email="gil@example.com", password=PASSWORD)
    assert fresh.token_version == 1
    assert not _refused(user.id, 1)
    # A token already revoked cannot end the sessions that came after it.
    with pytest.raises(AuthError), session_scope() as session:
        sessions.sign_out.within(session, user_id=user.id, token_version=0)
    assert not _refused(user.id, 1)


def test_a_new_password_revokes_every_token(app_db: Engine) -> None:
    user = make_user("hal@example.com")
    new_password = "Another-long-pass-42"
    refusals = [
        ("not the password", new_password, "auth.wrong_password"),
        (PASSWORD, "short", "auth.password_too_short"),
        (PASSWORD, "hal@example.com", "auth.password_too_weak"),
    ]
    for current, new, code in refusals:
        with pytest.raises(ValidationError) as caught, session_scope() as session:
            users.change_password.within(session, user_id=user.id, current=current, new=new)
        assert caught.value.code == code
    assert not _refused(user.id, 0)
    with session_scope() as session:
        changed = users.change_password.within(
            session, user_id=user.id, current=PASSWORD, new=new_password
        )
    assert changed.token_version == 1
    assert _refused(user.id, 0)
    with pytest.raises(AuthError), session_scope() as session:
        users.authenticate.within(session, email="hal@example.com", password=PASSWORD)
    with session_scope() as session:
        users.authenticate.within(session, email="hal@example.com", password=new_password)


def test_only_admins_sign_others_out_everywhere(app_db: Engine) -> None:
    admin = make_user("ida@example.com", role=Role.ADMIN)
    user = make_user("jon@example.com")
    with pytest.raises(ForbiddenError), session_scope() as session:
        sessions.sign_out_everywhere.within(session, actor=user, user_id=admin.id)
    assert not _refused(admin.id, 0)
    with session_scope() as session:
        sessions.sign_out_everywhere.within(session, actor=admin, user_id=user.id)
    assert _refused(user.id, 0)
    with pytest.raises(NotFoundError), session_scope() as session:
        sessions.sign_out_everywhere.within(session, actor=admin, user_id=user.id + 100)


def test_signing_out_other_sessions_gives_this_one_the_new_version(app_db: Engine) -> None:
    user = make_user("hal@example.com")
    with session_scope() as session:
        renewed = sessions.sign_out_others.within(session, user_id=user.id, token_version=0)
    assert renewed.token_version == 1
    assert _refused(user.id, 0)
    assert not _refused(user.id, 1)
    with pytest.raises(AuthError), session_scope() as session:  # a stale token ends nothing
        sessions.sign_out_others.within(session, user_id=user.id, token_version=0)
    assert not _refused(user.id, 1)


def test_a_user_renames_themselves_within_the_rules(app_db: Engine) -> None:
    user = make_user("ivy@example.com")
    with session_scope() as session:
        renamed = users.update_profile.within(
            session, user_id=user.id, display_name="  Ivy \t Chen "
        )
    assert renamed.display_name == "Ivy Chen"
    for name, code in (("   ", "auth.name_empty"), ("x" * 101, "auth.name_too_long")):
        with pytest.raises(ValidationError) as raised, session_scope() as session:
            users.update_profile.within(session, user_id=user.id, display_name=name)
        assert raised.value.code == code
