"""Test connection and Import models, against the loopback provider over real HTTP."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import ForbiddenError
from llm_chat.models import AuditEntry, Role
from llm_chat.providers import probe
from llm_chat.services import catalog, provider_check
from llm_chat.services.access import SYSTEM
from tests.fake_provider import DEFAULT_MODELS, FakeProvider, ReplySpec
from tests.support.factories import make_user

KEY = "sk-check-SECRET-5150"
BODY_SECRET = "stack trace at /srv/internal SECRET-BODY"


@pytest.fixture
def keyed_provider() -> Iterator[FakeProvider]:
    """A provider that checks the API key, as real ones do."""
    with FakeProvider(api_key=KEY) as fake:
        yield fake


def _add(
    base_url: str, api_key: str = KEY, model: str | None = "fake-model", **extra: object
) -> int:
    with session_scope() as session:
        provider = catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name="Checked",
            kind="custom",
            base_url=base_url,
            api_key=api_key,
            **extra,  # type: ignore[arg-type]
        )
        if model is not None:
            catalog.create_model.within(
                session, actor=SYSTEM, provider_id=provider.id, display_name=model, model_name=model
            )
    return provider.id


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_working_provider_lists_its_models_and_answers_one_token(
    app_db: Engine, keyed_provider: FakeProvider
) -> None:
    provider_id = _add(keyed_provider.base_url, extra_headers={"X-Team": "chat"})
    admin = make_user(role=Role.ADMIN)
    report = await provider_check.check_connection(actor=admin, provider_id=provider_id)
    assert report.ok
    assert (report.models_code, report.completion_code) == ("", "")
    assert report.models == sorted(DEFAULT_MODELS)
    assert report.completion_model == "fake-model"
    assert report.models_ms >= 0
    assert report.completion_ms >= 0
    listed, completed = keyed_provider.requests
    assert listed.path == "/v1/models"
    assert completed.max_tokens == 1
    assert completed.model == "fake-model"
    assert completed.headers["x-team"] == "chat"
    assert KEY not in repr(report)


async def test_a_provider_without_models_is_asked_with_its_first_listed_one(
    app_db: Engine, keyed_provider: FakeProvider
) -> None:
    provider_id = _add(keyed_provider.base_url, model=None)
    report = await provider_check.check_connection(actor=SYSTEM, provider_id=provider_id)
    assert report.ok
    assert report.completion_model == sorted(DEFAULT_MODELS)[0]


async def test_a_wrong_key_is_reported_translated(
    app_db: Engine, keyed_provider: FakeProvider
) -> None:
    provider_id = _add(keyed_provider.base_url, api_key="sk-wrong")
    report = await provider_check.check_connection(actor=SYSTEM, provider_id=provider_id)
    assert not report.ok
    assert (report.models_code, report.completion_code) == ("provider.auth", "provider.auth")
    assert report.models == []


async def test_an_unreachable_host_is_reported(app_db: Engine) -> None:
    provider_id = _add(f"http://127.0.0.1:{_closed_port()}/v1")
    report = await provider_check.check_connection(actor=SYSTEM, provider_id=provider_id)
    assert (report.models_code, report.completion_code) == (
        "provider.unreachable",
        "provider.unreachable",
    )


async def test_a_failing_or_slow_completion_shows_a_code_never_the_body(
    app_db: Engine,
    keyed_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider_id = _add(keyed_provider.base_url)
    keyed_provider.enqueue(ReplySpec(status=500, error_message=BODY_SECRET))
    report = await provider_check.check_connection(actor=SYSTEM, provider_id=provider_id)
    assert (report.models_code, report.completion_code) == ("", "provider.server_error")
    keyed_provider.enqueue(ReplySpec(status=404, error_message=BODY_SECRET))
    report = await provider_check.check_connection(actor=SYSTEM, provider_id=provider_id)
    assert report.completion_code == "provider.model_not_found"
    monkeypatch.setattr(probe, "PROBE_TIMEOUT_SECONDS", 0.3)
    keyed_provider.enqueue(ReplySpec(text="late", first_token_delay=2.0))
    report = await provider_check.check_connection(actor=SYSTEM, provider_id=provider_id)
    assert report.completion_code == "provider.timeout"
    assert report.completion_ms < 2000
    for text in (repr(report), caplog.text):
        assert BODY_SECRET not in text
        assert KEY not in text


async def test_only_admins_check_and_import(app_db: Engine, keyed_provider: FakeProvider) -> None:
    provider_id = _add(keyed_provider.base_url)
    user = make_user()
    with pytest.raises(ForbiddenError):
        await provider_check.check_connection(actor=user, provider_id=provider_id)
    with pytest.raises(ForbiddenError):
        await catalog.import_models(actor=user, provider_id=provider_id, model_names=["x"])
    assert keyed_provider.requests == []


async def test_import_adds_the_chosen_models_once(
    app_db: Engine, keyed_provider: FakeProvider
) -> None:
    provider_id = _add(keyed_provider.base_url)
    admin = make_user(role=Role.ADMIN)
    report = await provider_check.check_connection(actor=admin, provider_id=provider_id)
    chosen = [m for m in report.models if m != "fake-echo"]
    added = await catalog.import_models(
        actor=admin, provider_id=provider_id, model_names=[*chosen, "deepseek-reasoner", " "]
    )
    # fake-model was there already.
    assert [m.model_name for m in added] == ["fake-model-large", "deepseek-reasoner"]
    assert [m.is_reasoning for m in added] == [False, True]
    again = await catalog.import_models(
        actor=admin, provider_id=provider_id, model_names=["fake-model-large"]
    )
    assert again == []
    models = await catalog.list_models(actor=admin)
    assert sorted(m.model_name for m in models) == [
        "deepseek-reasoner",
        "fake-model",
        "fake-model-large",
    ]
    with session_scope() as session:
        imported = session.exec(
            select(AuditEntry.target_name).where(AuditEntry.action == "model.import")
        ).all()
    assert sorted(imported) == ["deepseek-reasoner", "fake-model-large"]
