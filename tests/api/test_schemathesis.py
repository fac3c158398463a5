"""Schemathesis against /api/openapi.json with a valid token: no 5xx, responses as documented."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection
from schemathesis.config import SchemathesisConfig
from sqlalchemy.engine import Engine

from llm_chat.api.app import create_api
from llm_chat.models import Role
from llm_chat.security import hash_password
from llm_chat.services import users
from tests.api.conftest import Caller, make_conversation, sign_in
from tests.fake_provider import FakeProvider
from tests.support.factories import make_model, make_user

# A request can match the schema and still be refused with 422 by the services' rules (a
# message of blanks, a conversation whose last message is not the user's): allow that.
CONFIG = SchemathesisConfig.from_str(
    """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "422"]
"""
)
# Reading the schema needs no database; each operation's test gets one of its own.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_api(), config=CONFIG)


@pytest.fixture
def caller(sqlite_db: Engine, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Caller:
    """A user with a model to talk to and a conversation (id 1) to find."""
    # Sign-ins with made-up emails check a dummy hash; a cheap one keeps this test quick.
    cheap = hash_password("dummy password", rounds=4)
    monkeypatch.setattr(users, "dummy_password_hash", lambda: cheap)
    model_id = make_model(provider.base_url)
    caller = sign_in(make_user())
    make_conversation(caller.user.id, model_id, "First question", "Second question")
    return caller


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, caller: Caller) -> None:
    # FastAPI ignores query parameters it does not know, as most HTTP APIs do; Schemathesis
    # counts that as accepting invalid data.
    case.call_and_validate(headers=caller.headers, excluded_checks=[negative_data_rejection])


@pytest.fixture
def admin_caller(caller: Caller) -> Caller:
    """An admin, besides the user's provider, model and conversation."""
    return sign_in(make_user(role=Role.ADMIN))


# The admin routes again, as an admin (a user gets 403 from each, above).
@schema.include(path_regex="^/api/admin/").parametrize()
@settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_admin_api_conforms_to_its_schema(case: schemathesis.Case, admin_caller: Caller) -> None:
    case.call_and_validate(headers=admin_caller.headers, excluded_checks=[negative_data_rejection])
