"""The audit log's filters and pages; entries live and die with their change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.errors import ValidationError
from llm_chat.models import Role
from llm_chat.models.base import utcnow
from llm_chat.services import audit, catalog, sessions
from llm_chat.services.access import SYSTEM
from tests.support.factories import make_user


def _provider(name: str, actor: object = SYSTEM) -> int:
    with session_scope() as session:
        return catalog.create_provider.within(
            session,
            actor=actor,  # type: ignore[arg-type]
            name=name,
            kind="custom",
            base_url="https://x.example/v1",
            api_key="",
        ).id


async def test_entries_filter_by_actor_target_and_time_in_pages(app_db: Engine) -> None:
    alice = make_user(role=Role.ADMIN)
    bob = make_user(role=Role.ADMIN)
    started = utcnow()
    for n in range(3):
        _provider(f"A{n}", alice)
    provider_id = _provider("B", bob)
    with session_scope() as session:
        catalog.create_model.within(
            session, actor=bob, provider_id=provider_id, display_name="M", model_name="m"
        )
    await sessions.sign_out_everywhere(actor=bob, user_id=alice.id)

    everything = await audit.list_entries(actor=alice)
    assert everything.total == 6
    assert [e.target_name for e in everything.entries][:3] == [alice.email, "M", "B"]
    by_alice = await audit.list_entries(actor=alice, actor_email=alice.email.upper())
    assert [e.target_name for e in by_alice.entries] == ["A2", "A1", "A0"]
    models = await audit.list_entries(actor=alice, target_type="model")
    assert [(e.action, e.actor_email) for e in models.entries] == [("model.create", bob.email)]
    users = await audit.list_entries(actor=alice, target_type="user")
    assert [(e.action, e.target_id) for e in users.entries] == [
        ("user.sign_out_everywhere", alice.id)
    ]
    second_page = await audit.list_entries(actor=alice, limit=2, offset=2)
    assert [e.target_name for e in second_page.entries] == ["B", "A2"]
    assert second_page.total == 6
    later = await audit.list_entries(actor=alice, since=utcnow() + timedelta(seconds=1))
    assert later.total == 0
    window = await audit.list_entries(
        actor=alice, since=started - timedelta(seconds=1), until=utcnow() + timedelta(seconds=1)
    )
    assert window.total == 6
    for bad in ({"target_type": "planet"}, {"limit": 0}, {"limit": 201}, {"offset": -1}):
        with pytest.raises(ValidationError) as refused:
            await audit.list_entries(actor=alice, **bad)  # type: ignore[arg-type]
        assert refused.value.code == "admin.invalid_audit_filter"


def test_a_refused_change_leaves_no_entry(app_db: Engine) -> None:
    _provider("Taken")
    with pytest.raises(ValidationError):
        _two_providers_at_once("Fresh", "Taken")
    with session_scope() as session:
        page = audit.list_entries.within(session, actor=SYSTEM)
    assert [e.target_name for e in page.entries] == ["Taken"]


def _two_providers_at_once(*names: str) -> None:
    """Both in one transaction: the entry of the first goes when the second fails."""
    with session_scope() as session:
        for name in names:
            catalog.create_provider.within(
                session,
                actor=SYSTEM,
                name=name,
                kind="custom",
                base_url="https://x.example/v1",
                api_key="",
            )
