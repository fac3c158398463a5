"""Rows the tests need, made through the services (never by hand-written SQL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from llm_chat.db import session_scope
from llm_chat.models import MessageStatus, Role, UsageRecord, User
from llm_chat.security import SecretBox
from llm_chat.services import catalog, limit_admin, turn_plan, turn_rows, users
from llm_chat.services.access import SYSTEM
from llm_chat.services.limits import RoleLimits, UserLimits
from llm_chat.services.users import UserInfo

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def make_user(email: str | None = None, *, role: Role = Role.USER) -> UserInfo:
    """A registered user with :data:`PASSWORD`."""
    with session_scope() as session:
        return users.register_user.within(
            session,
            email=email or f"user{next(_counter)}@example.com",
            password=PASSWORD,
            display_name="Test User",
            role=role,
        )


def add_model(
    session: Session,
    base_url: str,
    model_name: str = "fake-model",
    *,
    provider_name: str | None = None,
    display_name: str | None = None,
    api_key: str = "sk-test",
    box: SecretBox | None = None,
    **options: object,
) -> int:
    """A provider at ``base_url`` with one model, in ``session``'s transaction (of any
    database: ``box`` encrypts the key for the app that will read it); returns the model id."""
    provider = catalog.create_provider.within(
        session,
        actor=SYSTEM,
        name=provider_name or f"Provider {next(_counter)}",
        kind="custom",
        base_url=base_url,
        api_key=api_key,
        box=box,
    )
    return catalog.create_model.within(
        session,
        actor=SYSTEM,
        provider_id=provider.id,
        display_name=display_name or model_name,
        model_name=model_name,
        **options,  # type: ignore[arg-type]
    ).id


def make_model(
    base_url: str, model_name: str = "fake-model", *, api_key: str = "sk-test", **options: Any
) -> int:
    """A provider at ``base_url`` with one model, in the app's database; returns its id."""
    with session_scope() as session:
        return add_model(session, base_url, model_name, api_key=api_key, **options)


def save_turns(
    user_id: int,
    model_id: int,
    turns: Iterable[tuple[str, str]],
    *,
    conversation_id: int | None = None,
    status: MessageStatus = MessageStatus.COMPLETE,
    engine: Engine | None = None,
) -> int:
    """Finished ``(question, reply)`` turns, saved through the services as a real turn saves
    them; returns the conversation's id (a new one unless ``conversation_id`` is given)."""
    for question, reply in turns:
        with session_scope(engine) as session:
            plan = turn_plan.plan_turn.within(
                session,
                user_id=user_id,
                conversation_id=conversation_id,
                model=model_id,
                text=question,
            )
            started = turn_rows.record_turn.within(session, plan=plan)
            turn_rows.save_reply.within(
                session, message_id=started.reply_message_id, content=reply, status=status
            )
        conversation_id = started.conversation_id
    assert conversation_id is not None
    return conversation_id


def disable_user(user_id: int) -> None:
    """Disable the account, as an admin would."""
    with session_scope() as session:
        row = session.get(User, user_id)
        assert row is not None
        row.is_active = False
        session.add(row)


def set_role_limits(role: Role = Role.USER, **limits: int) -> None:
    """Set ``role``'s default limits, as an admin would."""
    with session_scope() as session:
        limit_admin.set_role_limits.within(
            session, actor=SYSTEM, role=role.value, limits=RoleLimits.model_validate(limits)
        )


def set_user_limits(user_id: int, **limits: int | None) -> None:
    """Set a user's own limits, as an admin would."""
    with session_scope() as session:
        limit_admin.set_user_limits.within(
            session, actor=SYSTEM, user_id=user_id, limits=UserLimits(**limits)
        )


def add_usage(
    user_id: int,
    *,
    at: datetime,
    model_name: str = "fake-model",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_nanos: int | None = None,
    estimated: bool = False,
) -> None:
    """A turn's usage at ``at`` (UTC), as the turn would have recorded it then (the turn
    services write only the present)."""
    with session_scope() as session:
        session.add(
            UsageRecord(
                user_id=user_id,
                model_name=model_name,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_nanos=cost_nanos,
                estimated=estimated,
                created_at=at,
            )
        )


def usage_records(user_id: int) -> list[UsageRecord]:
    """The user's turns' usage, oldest first."""
    with session_scope() as session:
        return list(
            session.exec(
                select(UsageRecord)
                .where(UsageRecord.user_id == user_id)
                .order_by(col(UsageRecord.id))
            ).all()
        )
