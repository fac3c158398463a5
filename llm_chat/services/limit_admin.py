"""Admins set the limits: each role's defaults, and a user's own. Every change is audited."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlmodel import Session

from llm_chat.config import get_settings
from llm_chat.db import transaction
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import AuditAction, AuditTarget, Role, User, UserLimit
from llm_chat.models.base import utcnow
from llm_chat.services import app_settings, audit
from llm_chat.services.access import require_admin
from llm_chat.services.limits import (
    Limits,
    RoleLimits,
    UserLimits,
    limits_for,
    role_setting,
    user_limits,
)
from llm_chat.services.users import UserInfo


@dataclass(frozen=True)
class LimitSettings:
    """Each role's defaults, and what a role's default of None for streams means."""

    roles: dict[Role, RoleLimits]
    # LLM_CHAT_MAX_STREAMS_PER_USER.
    fallback_concurrent_streams: int


@dataclass(frozen=True)
class UserLimitsView:
    """A user's own limits (None: the role's) and the limits that apply to them."""

    user_id: int
    email: str
    role: Role
    own: UserLimits
    effective: Limits


@transaction
def get_limit_settings(session: Session, *, actor: UserInfo) -> LimitSettings:
    """Every role's default limits.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
    """
    require_admin(session, actor)
    return LimitSettings(
        roles={role: app_settings.read(session, role_setting(role)) for role in Role},
        fallback_concurrent_streams=get_settings().max_streams_per_user,
    )


@transaction
def set_role_limits(
    session: Session, *, actor: UserInfo, role: str, limits: RoleLimits
) -> RoleLimits:
    """Set the default limits of ``role``'s users (audited).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``admin.invalid_role`` or ``admin.invalid_setting``.
    """
    require_admin(session, actor)
    if role not in {r.value for r in Role}:
        raise ValidationError("admin.invalid_role")
    return app_settings.write(session, role_setting(role), limits, actor=actor)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("admin.user_not_found")
    return user


def _view(session: Session, user: User) -> UserLimitsView:
    user_id = user.id or 0
    return UserLimitsView(
        user_id=user_id,
        email=user.email,
        role=Role(user.role),
        own=user_limits(session, user_id=user_id),
        effective=limits_for(session, user_id=user_id, role=user.role),
    )


@transaction
def get_user_limits(session: Session, *, actor: UserInfo, user_id: int) -> UserLimitsView:
    """A user's own limits and those that apply to them.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: ``admin.user_not_found``.
    """
    require_admin(session, actor)
    return _view(session, _user(session, user_id))


@transaction
def set_user_limits(
    session: Session, *, actor: UserInfo, user_id: int, limits: UserLimits
) -> UserLimitsView:
    """Set a user's own limits (None fields follow the role; all None removes them);
    audited with the fields that changed.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: ``admin.user_not_found``.
        ValidationError: ``admin.invalid_limit``.
    """
    require_admin(session, actor)
    limits = limits.check()
    user = _user(session, user_id)
    row = session.get(UserLimit, user_id)
    old = _fields(row)
    new = dataclasses.asdict(limits)
    if old == new:
        return _view(session, user)
    if limits == UserLimits():
        if row is not None:
            session.delete(row)
    else:
        row = row or UserLimit(user_id=user_id)
        for name, value in new.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        session.add(row)
    old_values, new_values = audit.changes(old, new)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_LIMITS,
        target_type=AuditTarget.USER,
        target_id=user_id,
        target_name=user.email,
        old=old_values,
        new=new_values,
    )
    session.flush()
    return _view(session, user)


def _fields(row: UserLimit | None) -> dict[str, int | None]:
    if row is None:
        return dataclasses.asdict(UserLimits())
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(UserLimits)}
