"""Admins edit role defaults and a user's own limits; each change is audited; nobody else
may read or change them."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from llm_chat.errors import ForbiddenError, NotFoundError, ValidationError
from llm_chat.models import AuditTarget, Role
from llm_chat.services import audit, limit_admin
from llm_chat.services.access import SYSTEM
from llm_chat.services.limits import Limits, RoleLimits, UserLimits
from tests.support.factories import make_user


async def test_role_defaults_and_a_user_s_own_limits_are_set_and_audited(
    app_db: Engine,
) -> None:
    admin, user = make_user(role=Role.ADMIN), make_user()
    before = await limit_admin.get_limit_settings(actor=admin)
    assert before.roles[Role.USER] == RoleLimits()
    assert before.fallback_concurrent_streams == 4
    await limit_admin.set_role_limits(
        actor=admin, role="user", limits=RoleLimits(messages_per_minute=20, tokens_per_day=10**6)
    )
    view = await limit_admin.set_user_limits(
        actor=admin, user_id=user.id, limits=UserLimits(tokens_per_day=500, concurrent_streams=2)
    )
    assert view.own == UserLimits(tokens_per_day=500, concurrent_streams=2)
    assert view.effective == Limits(20, 500, 2)
    again = await limit_admin.get_user_limits(actor=admin, user_id=user.id)
    assert again == view
    # Back to the role's: the user's row goes.
    cleared = await limit_admin.set_user_limits(actor=admin, user_id=user.id, limits=UserLimits())
    assert cleared.effective == Limits(20, 10**6, 4)
    entries = (await audit.list_entries(actor=SYSTEM)).entries
    assert [(e.action, e.target_type, e.target_name) for e in reversed(entries)] == [
        ("setting.update", AuditTarget.SETTING.value, "limits.role.user"),
        ("user.limits", AuditTarget.USER.value, user.email),
        ("user.limits", AuditTarget.USER.value, user.email),
    ]
    first, set_own, cleared_own = reversed(entries)
    assert first.old_values == {"messages_per_minute": 0, "tokens_per_day": 0}
    assert first.new_values == {"messages_per_minute": 20, "tokens_per_day": 10**6}
    assert set_own.new_values == {"tokens_per_day": 500, "concurrent_streams": 2}
    assert set_own.target_id == user.id
    assert cleared_own.new_values == {"tokens_per_day": None, "concurrent_streams": None}


async def test_nobody_but_an_admin_reads_or_changes_limits(app_db: Engine) -> None:
    user = make_user()
    calls = [
        limit_admin.get_limit_settings(actor=user),
        limit_admin.set_role_limits(actor=user, role="user", limits=RoleLimits()),
        limit_admin.get_user_limits(actor=user, user_id=user.id),
        limit_admin.set_user_limits(
            actor=user, user_id=user.id, limits=UserLimits(concurrent_streams=100)
        ),
    ]
    for call in calls:
        with pytest.raises(ForbiddenError):
            await call
    assert (await limit_admin.get_user_limits(actor=SYSTEM, user_id=user.id)).own == UserLimits()
    assert (await audit.list_entries(actor=SYSTEM)).total == 0


async def test_bad_limits_roles_and_users_are_refused(app_db: Engine) -> None:
    user = make_user()
    with pytest.raises(ValidationError):
        await limit_admin.set_role_limits(actor=SYSTEM, role="owner", limits=RoleLimits())
    with pytest.raises(ValidationError):
        await limit_admin.set_user_limits(
            actor=SYSTEM, user_id=user.id, limits=UserLimits(messages_per_minute=-1)
        )
    with pytest.raises(NotFoundError):
        await limit_admin.get_user_limits(actor=SYSTEM, user_id=user.id + 1000)
