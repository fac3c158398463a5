"""Accounts as an admin manages them: find, promote or demote, disable, reset, delete.

Every change is refused unless the actor is an active admin as of now, is written to the
audit log in its own transaction, and takes effect on the user's very next request or page
event (each one reads the account again: :func:`llm_chat.services.users.get_active_user`).
No change may leave the app without an active admin, and an admin cannot lock themselves
out (disable, demote or delete their own account).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, delete, func, or_, select

from llm_chat.db import transaction
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import (
    ApiKey,
    AuditAction,
    AuditTarget,
    Conversation,
    LoginAttempt,
    Message,
    Role,
    User,
)
from llm_chat.security import hash_password
from llm_chat.services import audit
from llm_chat.services.access import require_admin
from llm_chat.services.users import UserInfo, revoke_tokens, validate_password

MAX_PAGE = 100
# A generated password: 16 URL-safe characters (96 bits).
GENERATED_PASSWORD_BYTES = 12


@dataclass(frozen=True)
class UserRow:
    """An account as the admin's user list shows it (never its password hash)."""

    id: int
    email: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime
    # Signed up while approval was required, not approved yet (and so not active).
    pending_approval: bool = False


@dataclass(frozen=True)
class UserPage:
    """A page of accounts, newest first, and how many match in all."""

    users: list[UserRow]
    total: int


def _row(user: User) -> UserRow:
    return UserRow(
        id=user.id or 0,
        email=user.email,
        display_name=user.display_name,
        role=Role(user.role),
        is_active=user.is_active,
        created_at=user.created_at,
        pending_approval=user.pending_approval,
    )


def _snapshot(user: User) -> dict[str, Any]:
    """What the audit log keeps of an account (no secret in it)."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
    }


def _like(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@transaction
def list_users(
    session: Session,
    *,
    actor: UserInfo,
    search: str = "",
    limit: int = 25,
    offset: int = 0,
    pending: bool = False,
) -> UserPage:
    """Accounts whose email or name contains ``search`` (any case), newest first; with
    ``pending``, only those waiting for an approval.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``admin.bad_page`` for a page outside 1..MAX_PAGE or a negative offset.
    """
    require_admin(session, actor)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValidationError("admin.bad_page")
    condition = sa.true()
    if search.strip():
        pattern = _like(search.strip())
        condition = or_(
            func.lower(col(User.email)).like(pattern, escape="\\"),
            func.lower(col(User.display_name)).like(pattern, escape="\\"),
        )
    if pending:
        condition = sa.and_(condition, col(User.pending_approval).is_(True))
    total = session.exec(select(func.count()).select_from(User).where(condition)).one()
    rows = session.exec(
        select(User).where(condition).order_by(col(User.id).desc()).limit(limit).offset(offset)
    ).all()
    return UserPage(users=[_row(u) for u in rows], total=total)


@transaction
def get_user(session: Session, *, actor: UserInfo, user_id: int) -> UserRow:
    """One account.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such account.
    """
    require_admin(session, actor)
    return _row(_target(session, user_id))


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("auth.no_such_user")
    return user


def _other_active_admins(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, col(User.is_active).is_(True), User.id != user_id)
    ).one()


def _record(
    session: Session,
    actor: UserInfo,
    action: AuditAction,
    user_id: int,
    email: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> None:
    """An audit entry about the account ``user_id`` (named by its email), in ``session``."""
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type=AuditTarget.USER,
        target_id=user_id,
        target_name=email,
        old=old,
        new=new,
    )


def _refuse_self(actor: UserInfo, user: User) -> None:
    if actor.id == user.id:
        raise ValidationError("admin.not_yourself")


def _refuse_last_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no active admin."""
    if (
        user.role == Role.ADMIN
        and user.is_active
        and not _other_active_admins(session, user.id or 0)
    ):
        raise ValidationError("admin.last_admin")


@transaction
def set_role(session: Session, *, actor: UserInfo, user_id: int, role: Role) -> UserRow:
    """Give the account ``role``; a demoted admin loses the admin pages at their next event.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such account.
        ValidationError: ``admin.not_yourself`` (your own role), ``admin.last_admin``.
    """
    require_admin(session, actor)
    user = _target(session, user_id)
    if user.role == role.value:
        return _row(user)
    _refuse_self(actor, user)
    if role != Role.ADMIN:
        _refuse_last_admin(session, user)
    old_role = user.role
    user.role = role.value
    session.add(user)
    session.flush()
    _record(
        session,
        actor,
        AuditAction.USER_ROLE,
        user_id,
        user.email,
        old={"role": old_role},
        new={"role": user.role},
    )
    return _row(user)


@transaction
def set_active(session: Session, *, actor: UserInfo, user_id: int, active: bool) -> UserRow:
    """Enable or disable the account. A disabled account is refused at its next request or
    page event and its sign-in tokens end (a reply already streaming finishes). Enabling
    an account that waits for an approval approves it.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such account.
        ValidationError: ``admin.not_yourself`` (your own account), ``admin.last_admin``.
    """
    require_admin(session, actor)
    user = _target(session, user_id)
    if user.is_active == active:
        return _row(user)
    _refuse_self(actor, user)
    if not active:
        _refuse_last_admin(session, user)
    approving = active and user.pending_approval
    user.is_active = active
    user.pending_approval = False
    session.add(user)
    session.flush()
    if not active:
        revoke_tokens(session, user_id=user_id)
    action = AuditAction.USER_ENABLE if active else AuditAction.USER_DISABLE
    _record(
        session,
        actor,
        AuditAction.USER_APPROVE if approving else action,
        user_id,
        user.email,
        old={"is_active": not active},
        new={"is_active": active},
    )
    return _row(user)


def generate_password() -> str:
    """A random password that the registration rules accept."""
    while True:
        password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        try:
            validate_password("", password)
        except ValidationError:  # e.g. fewer than 4 distinct characters: never in practice
            continue
        return password


@transaction
def reset_password(session: Session, *, actor: UserInfo, user_id: int) -> str:
    """Give the account a new random password and end its sign-in tokens; returns the
    password, to be shown to the admin once (it is stored only as a hash). Slow (bcrypt).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such account.
        ValidationError: ``admin.not_yourself`` (change your own on the settings page).
    """
    require_admin(session, actor)
    user = _target(session, user_id)
    _refuse_self(actor, user)
    password = generate_password()
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    revoke_tokens(session, user_id=user_id)
    _record(session, actor, AuditAction.USER_RESET_PASSWORD, user_id, user.email)
    return password


@transaction
def delete_user(session: Session, *, actor: UserInfo, user_id: int) -> None:
    """Delete the account and everything it owns: conversations and their messages, API
    keys, sign-in attempts. The audit log keeps its entries (without the account's id).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such account.
        ValidationError: ``admin.not_yourself``, ``admin.last_admin``.
    """
    require_admin(session, actor)
    user = _target(session, user_id)
    _refuse_self(actor, user)
    _refuse_last_admin(session, user)
    before = _snapshot(user)
    owned = select(Conversation.id).where(Conversation.user_id == user_id)
    session.exec(delete(Message).where(col(Message.conversation_id).in_(owned)))  # type: ignore[call-overload]
    session.exec(delete(Conversation).where(col(Conversation.user_id) == user_id))  # type: ignore[call-overload]
    session.exec(delete(ApiKey).where(col(ApiKey.user_id) == user_id))  # type: ignore[call-overload]
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == user.email))  # type: ignore[call-overload]
    session.delete(user)
    session.flush()
    _record(session, actor, AuditAction.USER_DELETE, user_id, before["email"], old=before)
