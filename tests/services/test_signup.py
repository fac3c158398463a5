"""The sign-up policy on SQLite and MariaDB: open, approval, closed with one-time invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, ForbiddenError, NotFoundError, ValidationError
from llm_chat.models import AuditEntry, Invite, Role, User
from llm_chat.models.base import utcnow
from llm_chat.services import sessions, signup, user_admin
from llm_chat.services.signup import SignupMode, SignupPolicy
from llm_chat.services.users import UserInfo
from tests.support.factories import PASSWORD, make_user


def _admin() -> UserInfo:
    return make_user("root@example.com", role=Role.ADMIN)


async def _set_mode(admin: UserInfo, mode: SignupMode, days: int = 7) -> None:
    await signup.set_signup_policy(actor=admin, policy=SignupPolicy(mode=mode, invite_days=days))


def _user(email: str) -> User | None:
    with session_scope() as session:
        return session.exec(select(User).where(User.email == email)).first()


def _actions() -> list[tuple[str, str]]:
    with session_scope() as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
        return [(e.action, e.target_name) for e in rows]


async def test_open_sign_up_makes_an_active_account(app_db: Engine) -> None:
    assert (await signup.signup_policy()).mode == SignupMode.OPEN
    made = await signup.sign_up(email="Ann@Example.com", password=PASSWORD, display_name="Ann")
    assert made.active
    assert made.user.email == "ann@example.com"
    assert made.user.role == Role.USER
    await sessions.sign_in(email="ann@example.com", password=PASSWORD, address="")


async def test_approval_keeps_the_account_out_until_an_admin_approves_it(app_db: Engine) -> None:
    admin = _admin()
    await _set_mode(admin, SignupMode.APPROVAL)
    made = await signup.sign_up(email="bob@example.com", password=PASSWORD)
    assert not made.active
    with pytest.raises(AuthError) as refused:
        await sessions.sign_in(email="bob@example.com", password=PASSWORD, address="")
    assert refused.value.code == "auth.pending_approval"
    waiting = await user_admin.list_users(actor=admin, pending=True)
    assert [u.email for u in waiting.users] == ["bob@example.com"]
    assert waiting.users[0].pending_approval
    assert not waiting.users[0].is_active

    await user_admin.set_active(actor=admin, user_id=made.user.id, active=True)
    await sessions.sign_in(email="bob@example.com", password=PASSWORD, address="")
    assert (await user_admin.list_users(actor=admin, pending=True)).total == 0
    assert ("user.approve", "bob@example.com") in _actions()
    # A wrong password of a waiting account says the same as any wrong password.
    await signup.sign_up(email="cat@example.com", password=PASSWORD)
    with pytest.raises(AuthError) as wrong:
        await sessions.sign_in(email="cat@example.com", password="x" + PASSWORD, address="")
    assert wrong.value.code == "auth.bad_credentials"


async def test_closed_sign_up_refuses_and_writes_nothing(app_db: Engine) -> None:
    admin = _admin()
    await _set_mode(admin, SignupMode.CLOSED)
    with pytest.raises(ValidationError) as refused:
        await signup.sign_up(email="eve@example.com", password=PASSWORD)
    assert refused.value.code == "auth.signup_closed"
    assert _user("eve@example.com") is None
    assert ("setting.update", "signup.policy") in _actions()


async def test_an_invitation_makes_its_account_once_with_its_role(app_db: Engine) -> None:
    admin = _admin()
    await _set_mode(admin, SignupMode.CLOSED)
    new = await signup.create_invite(actor=admin, email=" Dee@Example.com ", role=Role.ADMIN)
    assert new.invite.email == "dee@example.com"
    assert new.invite.usable
    assert len(new.token) >= 40
    with session_scope() as session:
        stored = session.exec(select(Invite)).one()
        assert stored.token_hash == signup.token_hash(new.token)
        assert new.token not in stored.token_hash
    assert (await signup.invite_for(token=new.token)).email == "dee@example.com"

    # The email typed is ignored: the account is the invitation's.
    made = await signup.sign_up(
        email="other@example.com", password=PASSWORD, display_name="Dee", invite=new.token
    )
    assert made.active
    assert (made.user.email, made.user.role) == ("dee@example.com", Role.ADMIN)
    assert _user("other@example.com") is None
    with pytest.raises(ValidationError) as used:
        await signup.sign_up(email="x@example.com", password=PASSWORD, invite=new.token)
    assert used.value.code == "auth.invite_invalid"
    with pytest.raises(ValidationError):
        await signup.invite_for(token=new.token)
    assert await signup.list_invites(actor=admin) == []
    assert ("invite.create", "dee@example.com") in _actions()


async def test_an_invitation_skips_the_approval(app_db: Engine) -> None:
    admin = _admin()
    await _set_mode(admin, SignupMode.APPROVAL)
    new = await signup.create_invite(actor=admin, email="fay@example.com", role=Role.USER)
    made = await signup.sign_up(email="", password=PASSWORD, invite=new.token)
    assert made.active
    await sessions.sign_in(email="fay@example.com", password=PASSWORD, address="")


async def test_bad_input_with_an_invitation_leaves_it_usable(app_db: Engine) -> None:
    admin = _admin()
    new = await signup.create_invite(actor=admin, email="gus@example.com", role=Role.USER)
    with pytest.raises(ValidationError) as weak:
        await signup.sign_up(email="", password="short", invite=new.token)
    assert weak.value.code == "auth.password_too_short"
    assert (await signup.invite_for(token=new.token)).email == "gus@example.com"


async def test_expired_withdrawn_and_replaced_invitations_stop_working(app_db: Engine) -> None:
    admin = _admin()
    old = await signup.create_invite(actor=admin, email="hal@example.com", role=Role.USER)
    again = await signup.create_invite(actor=admin, email="hal@example.com", role=Role.USER)
    with pytest.raises(ValidationError):
        await signup.invite_for(token=old.token)
    assert [i.id for i in await signup.list_invites(actor=admin)] == [again.invite.id]

    await signup.revoke_invite(actor=admin, invite_id=again.invite.id)
    with pytest.raises(ValidationError):
        await signup.sign_up(email="", password=PASSWORD, invite=again.token)
    with pytest.raises(NotFoundError):
        await signup.revoke_invite(actor=admin, invite_id=again.invite.id)
    assert ("invite.revoke", "hal@example.com") in _actions()

    late = await signup.create_invite(actor=admin, email="ivy@example.com", role=Role.USER)
    with session_scope() as session:
        row = session.get(Invite, late.invite.id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    with pytest.raises(ValidationError) as expired:
        await signup.sign_up(email="", password=PASSWORD, invite=late.token)
    assert expired.value.code == "auth.invite_invalid"
    listed = await signup.list_invites(actor=admin)
    assert [(i.email, i.usable) for i in listed] == [("ivy@example.com", False)]


async def test_invitations_follow_the_policy_lifetime_and_refuse_taken_addresses(
    app_db: Engine,
) -> None:
    admin = _admin()
    await _set_mode(admin, SignupMode.CLOSED, days=2)
    new = await signup.create_invite(actor=admin, email="jo@example.com", role=Role.USER)
    lifetime = new.invite.expires_at - new.invite.created_at
    assert timedelta(days=2) - timedelta(seconds=1) <= lifetime <= timedelta(days=2)
    make_user("kim@example.com")
    with pytest.raises(ValidationError) as taken:
        await signup.create_invite(actor=admin, email="KIM@example.com", role=Role.USER)
    assert taken.value.code == "auth.email_taken"
    with pytest.raises(ValidationError) as bad:
        await signup.create_invite(actor=admin, email="not an address", role=Role.USER)
    assert bad.value.code == "auth.invalid_email"
    with pytest.raises(ValidationError):
        await signup.set_signup_policy(
            actor=admin, policy=SignupPolicy.model_construct(mode=SignupMode.OPEN, invite_days=0)
        )


async def test_only_an_admin_sets_the_policy_or_invites(app_db: Engine) -> None:
    _admin()
    user = make_user("lee@example.com")
    with pytest.raises(ForbiddenError):
        await _set_mode(user, SignupMode.OPEN)
    with pytest.raises(ForbiddenError):
        await signup.create_invite(actor=user, email="x@example.com", role=Role.ADMIN)
    with pytest.raises(ForbiddenError):
        await signup.list_invites(actor=user)
    with pytest.raises(ForbiddenError):
        await signup.revoke_invite(actor=user, invite_id=1)
    with session_scope() as session:
        assert session.exec(select(Invite)).first() is None
    assert (await signup.signup_policy()).mode == SignupMode.OPEN


async def test_deleting_the_inviting_admin_keeps_the_invitation(app_db: Engine) -> None:
    root = _admin()
    other = make_user("second@example.com", role=Role.ADMIN)
    new = await signup.create_invite(actor=other, email="max@example.com", role=Role.USER)
    await user_admin.delete_user(actor=root, user_id=other.id)
    made = await signup.sign_up(email="", password=PASSWORD, invite=new.token)
    assert made.user.email == "max@example.com"
