"""Test connection before saving: a new provider's values, or a saved one's as edited, against
the loopback provider over real HTTP. Nothing is stored or audited; a stored key never goes to
a new host."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.errors import ForbiddenError, NotFoundError, ValidationError
from llm_chat.models import AuditEntry, Provider, Role
from llm_chat.services import catalog, provider_check
from llm_chat.services.access import SYSTEM
from llm_chat.services.provider_check import ProviderValues
from tests.fake_provider import DEFAULT_MODELS, FakeProvider
from tests.support.factories import make_user

KEY = "sk-unsaved-SECRET-3141"
HEADER_SECRET = "hdr-unsaved-SECRET-2718"


@pytest.fixture
def keyed_provider() -> Iterator[FakeProvider]:
    """A provider that checks the API key, as real ones do."""
    with FakeProvider(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def other_host() -> Iterator[FakeProvider]:
    """Another provider (another port: another host to a browser), taking any key."""
    with FakeProvider() as fake:
        yield fake


def _saved(base_url: str, *, headers: dict[str, str] | None = None) -> int:
    """A provider stored with KEY (and ``headers``) and a model ``fake-model-large``."""
    with session_scope() as session:
        provider = catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name="Saved",
            kind="custom",
            base_url=base_url,
            api_key=KEY,
            extra_headers=headers,
        )
        catalog.create_model.within(
            session,
            actor=SYSTEM,
            provider_id=provider.id,
            display_name="Large",
            model_name="fake-model-large",
        )
    return provider.id


def _rows() -> tuple[int, int]:
    """How many providers and audit entries are stored."""
    with session_scope() as session:
        providers = len(session.exec(select(Provider.id)).all())
        entries = len(session.exec(select(AuditEntry.id)).all())
    return providers, entries


def _bearer(fake: FakeProvider) -> list[str]:
    return [r.headers.get("authorization", "") for r in fake.requests]


async def test_a_new_provider_s_values_are_checked_and_nothing_is_stored(
    app_db: Engine, keyed_provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = make_user(role=Role.ADMIN)
    values = ProviderValues(
        base_url=keyed_provider.base_url + "/",
        api_key=f" {KEY} ",
        extra_headers={"X-Team": HEADER_SECRET},
        timeout_seconds=5,
    )
    report = await provider_check.check_values(actor=admin, values=values)
    assert report.ok
    assert report.models == sorted(DEFAULT_MODELS)
    # A new provider has no model: the first listed one answers.
    assert report.completion_model == sorted(DEFAULT_MODELS)[0]
    assert _bearer(keyed_provider) == [f"Bearer {KEY}"] * 2
    assert keyed_provider.requests[-1].headers["x-team"] == HEADER_SECRET
    assert _rows() == (0, 0)
    for text in (repr(values), repr(report), caplog.text):
        assert KEY not in text
        assert HEADER_SECRET not in text

    wrong = await provider_check.check_values(
        actor=admin, values=ProviderValues(base_url=keyed_provider.base_url, api_key="sk-typo")
    )
    # No model listed, none saved: nothing to ask for a token.
    assert (wrong.models_code, wrong.completion_code) == ("provider.auth", "admin.check_not_asked")
    assert wrong.completion_ms == 0


async def test_an_edited_provider_uses_its_stored_secrets_at_its_stored_url_only(
    app_db: Engine, keyed_provider: FakeProvider, other_host: FakeProvider
) -> None:
    provider_id = _saved(keyed_provider.base_url, headers={"X-Team": HEADER_SECRET})
    admin = make_user(role=Role.ADMIN)

    # The same URL, the key and headers left empty: the stored ones, and its own model.
    kept = ProviderValues(base_url=keyed_provider.base_url, api_key=None, extra_headers=None)
    report = await provider_check.check_values(actor=admin, values=kept, provider_id=provider_id)
    assert report.ok
    assert report.completion_model == "fake-model-large"
    assert _bearer(keyed_provider) == [f"Bearer {KEY}"] * 2
    assert keyed_provider.requests[-1].headers["x-team"] == HEADER_SECRET

    # A new URL with the stored key or headers not typed again: refused before any request.
    for api_key, headers in ((None, None), ("sk-new", None), (None, {})):
        moved = ProviderValues(base_url=other_host.base_url, api_key=api_key, extra_headers=headers)
        with pytest.raises(ValidationError) as refused:
            await provider_check.check_values(actor=admin, values=moved, provider_id=provider_id)
        assert refused.value.code == "admin.secrets_for_new_url"
    assert other_host.requests == []

    # Typed again (or removed: "" and {}), they go to the new host; the stored ones never do.
    for api_key in ("sk-new", ""):
        moved = ProviderValues(base_url=other_host.base_url, api_key=api_key, extra_headers={})
        report = await provider_check.check_values(
            actor=admin, values=moved, provider_id=provider_id
        )
        assert report.ok
    sent = [r.headers for r in other_host.requests]
    assert [h.get("authorization") for h in sent] == ["Bearer sk-new"] * 2 + [
        "Bearer not-needed"
    ] * 2
    assert not [h for h in sent if KEY in str(h) or HEADER_SECRET in str(h)]

    # A key removed at the same URL: tested without it.
    removed = ProviderValues(base_url=keyed_provider.base_url, api_key="", extra_headers=None)
    report = await provider_check.check_values(actor=admin, values=removed, provider_id=provider_id)
    assert report.models_code == "provider.auth"
    assert _rows() == (1, 2)  # the provider and the model, as made: the checks changed nothing


async def test_bad_values_and_unknown_providers_are_refused_before_any_request(
    app_db: Engine, keyed_provider: FakeProvider
) -> None:
    admin = make_user(role=Role.ADMIN)
    cases = [
        (ProviderValues(base_url="ftp://example.com"), "admin.invalid_base_url"),
        (
            ProviderValues(base_url=keyed_provider.base_url, extra_headers={"Host": "x"}),
            "admin.invalid_headers",
        ),
        (
            ProviderValues(base_url=keyed_provider.base_url, timeout_seconds=0.5),
            "admin.invalid_timeout",
        ),
    ]
    for values, code in cases:
        with pytest.raises(ValidationError) as refused:
            await provider_check.check_values(actor=admin, values=values)
        assert refused.value.code == code
    with pytest.raises(NotFoundError):
        await provider_check.check_values(
            actor=admin, values=ProviderValues(base_url=keyed_provider.base_url), provider_id=999
        )
    assert keyed_provider.requests == []


async def test_only_admins_check_unsaved_values(
    app_db: Engine, keyed_provider: FakeProvider
) -> None:
    provider_id = _saved(keyed_provider.base_url)
    user = make_user()
    values = ProviderValues(base_url=keyed_provider.base_url, api_key=None)
    for target in (None, provider_id):
        with pytest.raises(ForbiddenError):
            await provider_check.check_values(actor=user, values=values, provider_id=target)
    assert keyed_provider.requests == []
