"""Providers and models: encryption at rest, what users may pick, seeding from the env."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import AuthError, ForbiddenError, ValidationError
from llm_chat.models import Provider, Role
from llm_chat.providers import ProviderError
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from tests.support.factories import disable_user, make_user


def _provider(name: str = "Local", api_key: str = "sk-secret-1") -> int:
    with session_scope() as session:
        return catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name=name,
            kind="ollama",
            base_url="http://127.0.0.1:11434/v1/",
            api_key=api_key,
        ).id


def test_api_key_is_encrypted_at_rest_and_decrypted_for_calls(app_db: Engine) -> None:
    provider_id = _provider(api_key="sk-secret-1")
    with session_scope() as session:
        row = session.get(Provider, provider_id)
        assert row is not None
        assert row.api_key_encrypted
        assert "sk-secret-1" not in row.api_key_encrypted
        assert row.base_url == "http://127.0.0.1:11434/v1"
        info = catalog.list_providers.within(session, actor=SYSTEM)[0]
        assert info.has_api_key
        assert "sk-secret-1" not in repr(info)
        model = catalog.create_model.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            display_name="Llama",
            model_name="llama3",
        )
        target = catalog.resolve_target(session, model_id=model.id)
    assert target.api_key == "sk-secret-1"
    assert "sk-secret-1" not in repr(target)


def test_only_enabled_models_of_enabled_providers_are_offered(app_db: Engine) -> None:
    first, second = _provider("One"), _provider("Two")
    with session_scope() as session:
        a = catalog.create_model.within(
            session, actor=SYSTEM, provider_id=first, display_name="A", model_name="a"
        )
        b = catalog.create_model.within(
            session, actor=SYSTEM, provider_id=first, display_name="B", model_name="b"
        )
        c = catalog.create_model.within(
            session, actor=SYSTEM, provider_id=second, display_name="C", model_name="c"
        )
        catalog.set_model_enabled.within(session, actor=SYSTEM, model_id=b.id, enabled=False)
        catalog.update_provider.within(session, actor=SYSTEM, provider_id=second, enabled=False)
    with session_scope() as session:
        offered = catalog.list_enabled_models.within(session)
        assert [m.name for m in offered] == ["A"]
        assert offered[0].is_default  # the first model becomes the default
        assert catalog.resolve_target(session, model_id=a.id).model_name == "a"
        # A disabled model, a model of a disabled provider, a model that does not exist.
        for model_id in (b.id, c.id, c.id + 100):
            with pytest.raises(ProviderError) as caught:
                catalog.resolve_target(session, model_id=model_id)
            assert caught.value.code == "provider.model_unavailable"
    assert a.is_default


def test_default_model_moves(app_db: Engine) -> None:
    provider_id = _provider()
    with session_scope() as session:
        catalog.create_model.within(
            session, actor=SYSTEM, provider_id=provider_id, display_name="A", model_name="a"
        )
        b = catalog.create_model.within(
            session, actor=SYSTEM, provider_id=provider_id, display_name="B", model_name="b"
        )
        catalog.set_default_model.within(session, actor=SYSTEM, model_id=b.id)
    with session_scope() as session:
        offered = catalog.list_enabled_models.within(session)
    assert [(m.name, m.is_default) for m in offered] == [("B", True), ("A", False)]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("base_url", "ftp://example.com", "admin.invalid_base_url"),
        ("base_url", "not a url", "admin.invalid_base_url"),
        ("name", "   ", "admin.invalid_provider_name"),
        ("kind", "nonsense", "admin.invalid_provider_kind"),
    ],
)
def test_bad_provider_input(app_db: Engine, field: str, value: str, code: str) -> None:
    fields = {"name": "P", "kind": "custom", "base_url": "https://api.example.com/v1"}
    fields[field] = value
    with pytest.raises(ValidationError) as caught, session_scope() as session:
        catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name=fields["name"],
            kind=fields["kind"],
            base_url=fields["base_url"],
            api_key="",
        )
    assert caught.value.code == code


def test_duplicate_provider_name_is_refused(app_db: Engine) -> None:
    _provider("Same")
    with pytest.raises(ValidationError) as caught:
        _provider("Same")
    assert caught.value.code == "admin.provider_name_taken"


def test_seed_from_environment_is_idempotent(app_db: Engine) -> None:
    environ = {"OPENAI_API_KEY": "sk-openai", "DEEPSEEK_API_KEY": "sk-deepseek"}
    with session_scope() as session:
        created = catalog.seed_from_environment(session, environ=environ)
    with session_scope() as session:
        again = catalog.seed_from_environment(session, environ=environ)
        names = sorted(m.name for m in catalog.list_enabled_models.within(session))
        kinds = sorted(p.kind for p in session.exec(select(Provider)))
    assert sorted(created) == ["DeepSeek", "OpenAI"]
    assert again == []
    assert kinds == ["deepseek", "openai"]
    assert names == ["deepseek-chat", "deepseek-reasoner", "gpt-4o", "gpt-4o-mini"]


def test_models_are_found_by_name_model_id_or_id_among_enabled_ones(sqlite_db: Engine) -> None:
    provider_id = _provider()
    with session_scope() as session:
        default = catalog.create_model.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            display_name="Fast",
            model_name="qwen:7b",
        )
        other = catalog.create_model.within(
            session,
            actor=SYSTEM,
            provider_id=provider_id,
            display_name="Smart",
            model_name="qwen:72b",
        )
        catalog.set_model_enabled.within(session, actor=SYSTEM, model_id=other.id, enabled=False)
    with session_scope() as session:
        found = [
            catalog.find_enabled_model(session, ref=ref).id
            for ref in ("Fast", "qwen:7b", str(default.id), "", "  Fast ")
        ]
        assert found == [default.id] * 5
        for ref in ("Smart", "qwen:72b", str(other.id), "fast"):
            with pytest.raises(ProviderError):
                catalog.find_enabled_model(session, ref=ref)


async def test_admin_services_refuse_anyone_but_an_active_admin(app_db: Engine) -> None:
    provider_id = _provider()
    admin = make_user(role=Role.ADMIN)
    user = make_user()
    changes = [
        lambda actor: catalog.create_provider(
            actor=actor, name="Rogue", kind="custom", base_url="http://x.test/v1", api_key=""
        ),
        lambda actor: catalog.update_provider(actor=actor, provider_id=provider_id, enabled=False),
        lambda actor: catalog.create_model(
            actor=actor, provider_id=provider_id, display_name="M", model_name="m"
        ),
        lambda actor: catalog.list_providers(actor=actor),
        lambda actor: catalog.list_models(actor=actor),
    ]
    for change in changes:
        with pytest.raises(ForbiddenError) as refused:
            await change(user)
        assert refused.value.code == "admin.only_admins"
    # The role is read again on every call: a page or a token that still says "admin"
    # does not make a demoted or disabled account one.
    with session_scope() as session:
        users.set_role.within(session, email=admin.email, role=Role.USER)
    with pytest.raises(ForbiddenError):
        await catalog.list_models(actor=admin)
    with session_scope() as session:
        users.set_role.within(session, email=admin.email, role=Role.ADMIN)
    assert [p.id for p in await catalog.list_providers(actor=admin)] == [provider_id]
    disable_user(admin.id)
    with pytest.raises(AuthError):
        await catalog.list_providers(actor=admin)
    with session_scope() as session:
        assert [p.name for p in session.exec(select(Provider)).all()] == ["Local"]
