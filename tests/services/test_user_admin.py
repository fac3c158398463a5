"""Accounts as an admin manages them, on SQLite and MariaDB: every rule, every audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, ForbiddenError, NotFoundError, ValidationError
from llm_chat.models import ApiKey, AuditEntry, Conversation, Message, Role, User
from llm_chat.services import api_keys, audit, sessions, user_admin, users
from llm_chat.services.access import SYSTEM
from llm_chat.services.users import UserInfo
from tests.fake_provider import FakeProvider
from tests.support.factories import PASSWORD, make_model, make_user, save_turns


def _admin(email: str = "root@example.com") -> UserInfo:
    return make_user(email, role=Role.ADMIN)


def _entries(action: str) -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def _count(model: type, *where: Any) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


async def test_the_list_finds_by_email_or_name_a_page_at_a_time(app_db: Engine) -> None:
    admin = _admin()
    for n in range(7):
        make_user(f"staff{n}@example.com")
    make_user("100%_sure@example.com")
    page = await user_admin.list_users(actor=admin, limit=3)
    assert page.total == 9
    assert [u.email for u in page.users] == [
        "100%_sure@example.com",
        "staff6@example.com",
        "staff5@example.com",
    ]
    second = await user_admin.list_users(actor=admin, limit=3, offset=3)
    assert second.users[0].email == "staff4@example.com"
    found = await user_admin.list_users(actor=admin, search="STAFF1")
    assert [u.email for u in found.users] == ["staff1@example.com"]
    # LIKE's wildcards in the search are plain characters.
    assert [u.email for u in (await user_admin.list_users(actor=admin, search="%_")).users] == [
        "100%_sure@example.com"
    ]
    assert (await user_admin.list_users(actor=admin, search="test user")).total == 9
    with pytest.raises(ValidationError):
        await user_admin.list_users(actor=admin, limit=0)


async def test_only_an_admin_of_now_may_do_any_of_it(app_db: Engine) -> None:
    admin, other = _admin(), make_user("mia@example.com")
    calls = (
        lambda actor: user_admin.list_users(actor=actor),
        lambda actor: user_admin.set_role(actor=actor, user_id=other.id, role=Role.ADMIN),
        lambda actor: user_admin.set_active(actor=actor, user_id=other.id, active=False),
        lambda actor: user_admin.reset_password(actor=actor, user_id=other.id),
        lambda actor: sessions.sign_out_everywhere(actor=actor, user_id=other.id),
        lambda actor: user_admin.delete_user(actor=actor, user_id=other.id),
    )
    user = make_user("ned@example.com")
    # A token that still says "admin" after a demotion is not enough.
    stale = UserInfo(id=user.id, email=user.email, display_name="", role=Role.ADMIN)
    for call in calls:
        with pytest.raises(ForbiddenError):
            await call(stale)
    await user_admin.set_active(actor=admin, user_id=user.id, active=False)
    promoted = UserInfo(id=user.id, email=user.email, display_name="", role=Role.ADMIN)
    for call in calls:
        with pytest.raises(AuthError):
            await call(promoted)
    row = (await user_admin.list_users(actor=admin, search="mia")).users[0]
    assert (row.role, row.is_active) == (Role.USER, True)
    assert _count(AuditEntry, col(AuditEntry.target_id) == other.id) == 0


async def test_roles_change_but_never_leave_no_admin(app_db: Engine) -> None:
    admin, user = _admin(), make_user("ola@example.com")
    promoted = await user_admin.set_role(actor=admin, user_id=user.id, role=Role.ADMIN)
    assert promoted.role == Role.ADMIN
    (entry,) = _entries("user.role")
    assert (entry.actor_id, entry.target_id, entry.target_name) == (admin.id, user.id, user.email)
    assert (entry.old_values, entry.new_values) == ('{"role": "user"}', '{"role": "admin"}')
    me_now = UserInfo(id=user.id, email=user.email, display_name="", role=Role.ADMIN)
    await user_admin.set_role(actor=me_now, user_id=admin.id, role=Role.USER)
    with pytest.raises(ValidationError) as raised:  # demoting yourself
        await user_admin.set_role(actor=me_now, user_id=user.id, role=Role.USER)
    assert raised.value.code == "admin.not_yourself"
    with pytest.raises(NotFoundError):
        await user_admin.set_role(actor=me_now, user_id=999_999, role=Role.ADMIN)


async def test_an_admin_cannot_lock_themselves_out_and_one_admin_always_stays(
    app_db: Engine,
) -> None:
    admin, user = _admin(), make_user("pat@example.com")
    for change in (
        user_admin.set_role(actor=admin, user_id=admin.id, role=Role.USER),
        user_admin.set_active(actor=admin, user_id=admin.id, active=False),
        user_admin.delete_user(actor=admin, user_id=admin.id),
        user_admin.reset_password(actor=admin, user_id=admin.id),
    ):
        with pytest.raises(ValidationError) as raised:
            await change
        assert raised.value.code == "admin.not_yourself"
    # The shell (no account of its own) cannot leave the app without an active admin either.
    for change in (
        user_admin.set_role(actor=SYSTEM, user_id=admin.id, role=Role.USER),
        user_admin.set_active(actor=SYSTEM, user_id=admin.id, active=False),
        user_admin.delete_user(actor=SYSTEM, user_id=admin.id),
    ):
        with pytest.raises(ValidationError) as raised:
            await change
        assert raised.value.code == "admin.last_admin"
    await user_admin.set_role(actor=SYSTEM, user_id=user.id, role=Role.ADMIN)
    assert (await user_admin.set_role(actor=SYSTEM, user_id=admin.id, role=Role.USER)).role == (
        Role.USER
    )


async def test_disabling_ends_every_session_at_once(app_db: Engine) -> None:
    admin, user = _admin(), make_user("quinn@example.com")
    await user_admin.set_active(actor=admin, user_id=user.id, active=False)
    with pytest.raises(AuthError) as raised:
        await users.get_active_user(user_id=user.id)
    assert raised.value.code == "auth.disabled"
    await user_admin.set_active(actor=admin, user_id=user.id, active=True)
    with pytest.raises(AuthError):  # its old token stays dead once enabled again
        await users.get_active_user(user_id=user.id, token_version=0)
    assert [e.action for e in _entries("user.disable")] == ["user.disable"]
    assert [e.action for e in _entries("user.enable")] == ["user.enable"]


async def test_a_reset_password_works_once_shown_and_is_never_logged(app_db: Engine) -> None:
    admin, user = _admin(), make_user("rae@example.com")
    password = await user_admin.reset_password(actor=admin, user_id=user.id)
    assert len(password) >= 16
    with pytest.raises(AuthError):
        await users.authenticate(email="rae@example.com", password=PASSWORD)
    assert (await users.authenticate(email="rae@example.com", password=password)).id == user.id
    with pytest.raises(AuthError):
        await users.get_active_user(user_id=user.id, token_version=0)
    (entry,) = _entries("user.reset_password")
    assert password not in entry.old_values + entry.new_values
    with session_scope() as session:
        stored = session.get(User, user.id)
        assert stored is not None
        assert password not in stored.password_hash


async def test_deleting_an_account_deletes_what_it_owns_and_nothing_else(
    app_db: Engine, provider: FakeProvider
) -> None:
    admin, gone, kept = _admin(), make_user("sam@example.com"), make_user("tia@example.com")
    model = make_model(provider.base_url)
    gone_chat = save_turns(gone.id, model, [("Hi", "Hello")])
    kept_chat = save_turns(kept.id, model, [("Hey", "Hi there")])
    with session_scope() as session:
        api_keys.create_api_key.within(session, user_id=gone.id, name="script")
    await user_admin.delete_user(actor=admin, user_id=gone.id)
    assert _count(User, User.id == gone.id) == 0
    assert _count(Conversation, Conversation.id == gone_chat) == 0
    assert _count(Message, Message.conversation_id == gone_chat) == 0
    assert _count(ApiKey, ApiKey.user_id == gone.id) == 0
    assert _count(Message, Message.conversation_id == kept_chat) == 2
    (entry,) = _entries("user.delete")
    assert entry.target_name == "sam@example.com"
    with pytest.raises(NotFoundError):
        await user_admin.delete_user(actor=admin, user_id=gone.id)
    page = await audit.list_entries(actor=admin, target_type="user")
    assert [e.action for e in page.entries] == ["user.delete"]
