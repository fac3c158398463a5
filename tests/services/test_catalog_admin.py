"""Editing and deleting providers and models: the rules, what conversations keep, the roles
that may use a model, and the audit entry each change writes."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import ForbiddenError, NotFoundError, ValidationError
from llm_chat.models import AuditEntry, ChatModel, Conversation, Message, Provider, Role
from llm_chat.providers import ProviderError
from llm_chat.services import audit, catalog, turn_plan
from llm_chat.services.access import SYSTEM
from llm_chat.services.catalog import ModelSettings
from llm_chat.services.catalog_fields import parse_headers
from llm_chat.services.users import UserInfo
from tests.support.factories import make_user, save_turns

KEY = "sk-live-SECRET-0001"
NEW_KEY = "sk-live-SECRET-0002"
HEADER_SECRET = "gw-SECRET-token-77"


def _provider(name: str = "Gateway", **extra: object) -> int:
    with session_scope() as session:
        return catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name=name,
            kind="custom",
            base_url="https://gateway.example/v1",
            api_key=KEY,
            **extra,  # type: ignore[arg-type]
        ).id


def _model(provider_id: int, name: str, **extra: object) -> int:
    with session_scope() as session:
        return catalog.create_model.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            display_name=name,
            model_name=name.lower(),
            **extra,  # type: ignore[arg-type]
        ).id


def _entries() -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]


def _all_audit_text() -> str:
    return "\n".join(
        f"{e.actor_email} {e.action} {e.target_name} {e.old_values} {e.new_values}"
        for e in _entries()
    )


def test_a_new_base_url_needs_the_key_again(app_db: Engine) -> None:
    provider_id = _provider(extra_headers={"X-Gateway-Token": HEADER_SECRET})
    with pytest.raises(ValidationError) as refused, session_scope() as session:
        catalog.update_provider.within(
            session, actor=SYSTEM, provider_id=provider_id, base_url="https://other.example/v1"
        )
    assert refused.value.code == "admin.secrets_for_new_url"
    # The key alone is not enough while stored headers would go to the new host too.
    with pytest.raises(ValidationError), session_scope() as session:
        catalog.update_provider.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            base_url="https://other.example/v1",
            api_key=NEW_KEY,
        )
    with session_scope() as session:
        # The same URL written differently is no change; other fields change freely.
        catalog.update_provider.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            base_url="https://gateway.example/v1/",
            name="Gateway 2",
            timeout_seconds=30.0,
        )
        info = catalog.update_provider.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            base_url="https://other.example/v1",
            api_key=NEW_KEY,
            extra_headers={},
        )
    assert (info.base_url, info.name, info.timeout_seconds) == (
        "https://other.example/v1",
        "Gateway 2",
        30.0,
    )
    assert info.header_names == ()
    model_id = _model(provider_id, "M")
    with session_scope() as session:
        target = catalog.resolve_target(session, model_id=model_id)
    assert target.api_key == NEW_KEY
    assert target.extra_headers == ()
    assert target.timeout == 30.0


def test_a_provider_without_secrets_may_move(app_db: Engine) -> None:
    with session_scope() as session:
        provider_id = catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name="Local",
            kind="ollama",
            base_url="http://localhost:11434/v1",
            api_key="",
        ).id
        info = catalog.update_provider.within(
            session, actor=SYSTEM, provider_id=provider_id, base_url="http://gpu-box:11434/v1"
        )
    assert info.base_url == "http://gpu-box:11434/v1"
    assert not info.has_api_key


def test_headers_are_encrypted_checked_and_sent(app_db: Engine) -> None:
    provider_id = _provider(extra_headers=parse_headers(f"X-Gateway-Token: {HEADER_SECRET}\n"))
    with session_scope() as session:
        row = session.get(Provider, provider_id)
        assert row is not None
        assert HEADER_SECRET not in row.extra_headers_encrypted
        [info] = catalog.list_providers.within(session, actor=SYSTEM)
    assert info.header_names == ("X-Gateway-Token",)
    assert HEADER_SECRET not in repr(info)
    model_id = _model(provider_id, "M")
    with session_scope() as session:
        target = catalog.resolve_target(session, model_id=model_id)
    assert target.extra_headers == (("X-Gateway-Token", HEADER_SECRET),)
    assert HEADER_SECRET not in repr(target)
    for bad in ("no colon here", "Host: evil.example", "Bad Name: x", "X-A: 1\nx-a: 2", "X-B:"):
        with pytest.raises(ValidationError) as refused:
            parse_headers(bad)
        assert refused.value.code == "admin.invalid_headers"


def test_models_keep_every_setting_and_edits_are_checked(app_db: Engine) -> None:
    first, second = _provider("One"), _provider("Two")
    model_id = _model(
        first,
        "Thinker",
        top_p=0.9,
        price_input=Decimal("0.55"),
        price_output=Decimal("2.19"),
        allowed_roles=["admin"],
        is_reasoning=True,
        max_tokens=1024,
    )
    with session_scope() as session:
        info = catalog.get_model.within(session, actor=SYSTEM, model_id=model_id)
        assert (info.top_p, info.price_input, info.price_output) == (
            0.9,
            Decimal("0.55"),
            Decimal("2.19"),
        )
        assert info.allowed_roles == ("admin",)
        assert info.is_reasoning
        moved = catalog.update_model.within(
            session,
            actor=SYSTEM,
            model_id=model_id,
            settings=ModelSettings(
                provider_id=second,
                display_name="  Deep   Thinker ",
                model_name="thinker-2",
                temperature=0.2,
                price_input=Decimal("0.000001"),
            ),
        )
    assert (moved.provider, moved.display_name, moved.model_name) == (
        "Two",
        "Deep Thinker",
        "thinker-2",
    )
    assert (moved.top_p, moved.price_output, moved.allowed_roles, moved.is_reasoning) == (
        None,
        None,
        (),
        False,
    )
    base = ModelSettings.of(moved)
    for change, code in [
        ({"top_p": 1.5}, "admin.invalid_top_p"),
        ({"temperature": float("nan")}, "admin.invalid_temperature"),
        ({"price_input": Decimal("-1")}, "admin.invalid_price"),
        ({"price_output": Decimal("0.0000001")}, "admin.invalid_price"),
        ({"allowed_roles": ("root",)}, "admin.invalid_roles"),
        ({"context_window": 100}, "admin.invalid_context_window"),
        ({"model_name": " "}, "admin.invalid_model_id"),
    ]:
        with pytest.raises(ValidationError) as refused, session_scope() as session:
            catalog.update_model.within(
                session,
                actor=SYSTEM,
                model_id=model_id,
                settings=ModelSettings(**{**base.__dict__, **change}),
            )
        assert refused.value.code == code
    with pytest.raises(NotFoundError), session_scope() as session:
        catalog.update_model.within(
            session,
            actor=SYSTEM,
            model_id=model_id,
            settings=ModelSettings(**{**base.__dict__, "provider_id": second + 100}),
        )


def test_a_model_limited_to_admins_is_neither_offered_nor_usable_by_users(
    app_db: Engine,
) -> None:
    provider_id = _provider()
    open_model = _model(provider_id, "Open")
    admins_only = _model(provider_id, "Staff", allowed_roles=["admin"])
    user = make_user()
    with session_scope() as session:
        assert [m.name for m in catalog.list_enabled_models.within(session, role="user")] == [
            "Open"
        ]
        assert [m.name for m in catalog.list_enabled_models.within(session, role="admin")] == [
            "Open",
            "Staff",
        ]
        # A caller that does not say whose list it is gets only the models open to all.
        assert [m.name for m in catalog.list_enabled_models.within(session)] == ["Open"]
        with pytest.raises(ProviderError):
            catalog.find_enabled_model(session, ref="Staff", role="user")
        assert catalog.resolve_target(session, model_id=admins_only, role="admin").model_name
        with pytest.raises(ProviderError) as refused:
            turn_plan.plan_turn.within(
                session, user_id=user.id, conversation_id=None, model=admins_only, text="Hi"
            )
        assert refused.value.code == "provider.model_unavailable"
        plan = turn_plan.plan_turn.within(
            session, user_id=user.id, conversation_id=None, model=None, text="Hi"
        )
    assert plan.target.model_id == open_model


def test_a_deleted_model_leaves_its_conversations_on_the_default(app_db: Engine) -> None:
    provider_id = _provider()
    default = _model(provider_id, "Default")
    doomed = _model(provider_id, "Doomed")
    user = make_user()
    conversation_id = save_turns(user.id, doomed, [("Question", "Answer")])
    with session_scope() as session:
        catalog.delete_model.within(session, actor=SYSTEM, model_id=doomed)
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        assert conversation.model_id is None
        messages = session.exec(
            select(Message).where(Message.conversation_id == conversation_id)
        ).all()
        assert [(m.content, m.model_id) for m in messages] == [
            ("Question", None),
            ("Answer", None),
        ]
        assert {m.model_name for m in messages if m.role == "assistant"} == {"Doomed"}
        plan = turn_plan.plan_turn.within(
            session, user_id=user.id, conversation_id=conversation_id, model=None, text="More"
        )
    assert plan.target.model_id == default


def test_deleting_the_default_model_makes_another_one_default(app_db: Engine) -> None:
    provider_id = _provider()
    first = _model(provider_id, "First")
    second = _model(provider_id, "Second")
    with session_scope() as session:
        catalog.delete_model.within(session, actor=SYSTEM, model_id=first)
        [left] = catalog.list_models.within(session, actor=SYSTEM)
    assert (left.id, left.is_default) == (second, True)


def test_a_provider_with_models_is_deleted_only_with_them(app_db: Engine) -> None:
    keep = _provider("Keep")
    kept = _model(keep, "Kept")
    doomed = _provider("Doomed")
    _model(doomed, "Gone")
    _model(doomed, "Gone too")
    with pytest.raises(ValidationError) as refused, session_scope() as session:
        catalog.delete_provider.within(session, actor=SYSTEM, provider_id=doomed)
    assert refused.value.code == "admin.provider_has_models"
    with session_scope() as session:
        catalog.delete_provider.within(session, actor=SYSTEM, provider_id=doomed, with_models=True)
    with session_scope() as session:
        assert [p.name for p in session.exec(select(Provider))] == ["Keep"]
        assert [m.id for m in session.exec(select(ChatModel))] == [kept]
        with pytest.raises(NotFoundError):
            catalog.delete_provider.within(session, actor=SYSTEM, provider_id=doomed)
    actions = [(e.action, e.target_name) for e in _entries()][-3:]
    assert sorted(actions) == [
        ("model.delete", "Gone"),
        ("model.delete", "Gone too"),
        ("provider.delete", "Doomed"),
    ]


def test_every_change_is_audited_with_its_actor_and_no_secret(
    app_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = make_user(role=Role.ADMIN)
    with session_scope() as session:
        provider = catalog.create_provider.within(
            session,
            actor=admin,
            name="Audited",
            kind="openai",
            base_url="https://api.openai.com/v1",
            api_key=KEY,
            extra_headers={"OpenAI-Organization": HEADER_SECRET},
        )
        model = catalog.create_model.within(
            session, actor=admin, provider_id=provider.id, display_name="A", model_name="a"
        )
        catalog.update_provider.within(
            session,
            actor=admin,
            provider_id=provider.id,
            api_key=NEW_KEY,
            extra_headers={"OpenAI-Organization": HEADER_SECRET + "-2"},
        )
        catalog.update_provider.within(session, actor=admin, provider_id=provider.id, enabled=False)
        catalog.set_model_enabled.within(session, actor=admin, model_id=model.id, enabled=False)
        catalog.update_model.within(
            session,
            actor=admin,
            model_id=model.id,
            settings=ModelSettings(
                **{
                    **ModelSettings.of(
                        catalog.get_model.within(session, actor=admin, model_id=model.id)
                    ).__dict__,
                    "price_input": Decimal("1.50"),
                }
            ),
        )
        catalog.delete_model.within(session, actor=admin, model_id=model.id)
        catalog.delete_provider.within(session, actor=admin, provider_id=provider.id)
    entries = _entries()
    assert [e.action for e in entries] == [
        "provider.create",
        "model.create",
        "provider.update",
        "provider.update",
        "model.update",
        "model.update",
        "model.delete",
        "provider.delete",
    ]
    assert {(e.actor_id, e.actor_email) for e in entries} == {(admin.id, admin.email)}
    with session_scope() as session:
        page = audit.list_entries.within(session, actor=admin, limit=3)
    assert page.total == len(entries)
    assert [e.action for e in page.entries] == ["provider.delete", "model.delete", "model.update"]
    disabled, key_change = _changes(admin, "provider", "provider.update")
    assert (disabled.old_values, disabled.new_values) == ({"enabled": True}, {"enabled": False})
    assert key_change.old_values == {
        "api_key": "***",
        "extra_headers": {"OpenAI-Organization": "***"},
    }
    assert key_change.new_values == {
        "api_key": "*** (new)",
        "extra_headers": {"OpenAI-Organization": "*** (new)"},
    }
    price, off = _changes(admin, "model", "model.update")
    assert (off.old_values, off.new_values) == ({"enabled": True}, {"enabled": False})
    assert (price.old_values, price.new_values) == ({"price_input": None}, {"price_input": "1.5"})
    text = _all_audit_text()
    for secret in (KEY, NEW_KEY, HEADER_SECRET):
        assert secret not in text
        assert secret not in caplog.text


def _changes(admin: UserInfo, target_type: str, action: str) -> list[audit.AuditView]:
    """The entries of one action on one kind of target, newest first."""
    with session_scope() as session:
        page = audit.list_entries.within(session, actor=admin, target_type=target_type, limit=200)
    return [e for e in page.entries if e.action == action]


async def test_users_may_not_change_the_catalog_and_nothing_changes(app_db: Engine) -> None:
    provider_id = _provider()
    model_id = _model(provider_id, "M")
    user = make_user()
    before = _entries()
    settings = ModelSettings(provider_id=provider_id, display_name="X", model_name="x")
    changes = [
        lambda: catalog.update_provider(actor=user, provider_id=provider_id, name="Mine"),
        lambda: catalog.delete_provider(actor=user, provider_id=provider_id, with_models=True),
        lambda: catalog.update_model(actor=user, model_id=model_id, settings=settings),
        lambda: catalog.delete_model(actor=user, model_id=model_id),
        lambda: catalog.set_model_enabled(actor=user, model_id=model_id, enabled=False),
        lambda: catalog.set_default_model(actor=user, model_id=model_id),
        lambda: catalog.import_models(actor=user, provider_id=provider_id, model_names=["z"]),
        lambda: catalog.get_model(actor=user, model_id=model_id),
        lambda: catalog.provider_target(actor=user, provider_id=provider_id),
        lambda: audit.list_entries(actor=user),
    ]
    for change in changes:
        with pytest.raises(ForbiddenError):
            await change()
    assert _entries() == before
    with session_scope() as session:
        [info] = catalog.list_models.within(session, actor=SYSTEM)
    assert (info.display_name, info.enabled, info.provider_id) == ("M", True, provider_id)
