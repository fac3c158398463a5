"""Settings in the database: defaults until set, validated, every change audited in its
transaction, admins only."""

from __future__ import annotations

import pydantic
import pytest
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.errors import ForbiddenError, ValidationError
from llm_chat.models import AppSetting, AuditTarget, Role
from llm_chat.services import app_settings, audit
from llm_chat.services.access import SYSTEM
from llm_chat.services.app_settings import Setting
from tests.support.factories import make_user


class Policy(pydantic.BaseModel):
    """A setting's shape, as a later one (a sign-up policy) would declare it."""

    open: bool = True
    domains: list[str] = []
    quota: int = pydantic.Field(default=5, ge=0)


POLICY = Setting(key="test.policy", model=Policy, default=Policy())


def _read() -> Policy:
    with session_scope() as session:
        return app_settings.read(session, POLICY)


async def test_a_setting_reads_its_default_until_written_and_each_change_is_audited(
    app_db: Engine,
) -> None:
    admin = make_user(role=Role.ADMIN)
    assert _read() == Policy()
    with session_scope() as session:
        app_settings.write(
            session, POLICY, Policy(open=False, domains=["example.com"]), actor=admin
        )
    assert _read() == Policy(open=False, domains=["example.com"], quota=5)
    with session_scope() as session:  # the same value again: nothing to record
        app_settings.write(
            session, POLICY, Policy(open=False, domains=["example.com"]), actor=admin
        )
        stored = session.get(AppSetting, "test.policy")
        assert stored is not None
        assert stored.updated_by == admin.id
    page = await audit.list_entries(actor=SYSTEM, target_type=AuditTarget.SETTING.value)
    [entry] = page.entries
    assert (entry.action, entry.target_name, entry.actor_email) == (
        "setting.update",
        "test.policy",
        admin.email,
    )
    assert entry.old_values == {"open": True, "domains": []}
    assert entry.new_values == {"open": False, "domains": ["example.com"]}


async def test_only_admins_write_and_invalid_values_are_refused(app_db: Engine) -> None:
    user = make_user()
    with pytest.raises(ForbiddenError), session_scope() as session:
        app_settings.write(session, POLICY, Policy(open=False), actor=user)
    bad = Policy.model_construct(open=True, domains=[], quota=-1)
    with pytest.raises(ValidationError) as refused, session_scope() as session:
        app_settings.write(session, POLICY, bad, actor=SYSTEM)
    assert refused.value.code == "admin.invalid_setting"
    assert _read() == Policy()
    assert (await audit.list_entries(actor=SYSTEM)).total == 0


async def test_a_stored_value_that_no_longer_reads_gives_the_default(app_db: Engine) -> None:
    with session_scope() as session:
        session.add(AppSetting(key="test.policy", value='{"quota": "many"}'))
    assert _read() == Policy()
