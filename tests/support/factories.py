"""Rows the tests need, made through the services (never by hand-written SQL)."""

from __future__ import annotations

import itertools

from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.services import catalog, users
from llm_chat.services.users import UserInfo

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def make_user(email: str | None = None, *, role: Role = Role.USER) -> UserInfo:
    """A registered user with :data:`PASSWORD`."""
    with session_scope() as session:
        return users.register_user(
            session=session,
            email=email or f"user{next(_counter)}@example.com",
            password=PASSWORD,
            display_name="Test User",
            role=role,
        )


def make_model(
    base_url: str, model_name: str = "fake-model", *, api_key: str = "sk-test", **options: object
) -> int:
    """A provider at ``base_url`` with one model; returns the model id."""
    with session_scope() as session:
        provider = catalog.create_provider(
            session=session,
            name=f"Provider {next(_counter)}",
            kind="custom",
            base_url=base_url,
            api_key=api_key,
        )
        return catalog.create_model(
            session=session,
            provider_id=provider.id,
            display_name=model_name,
            model_name=model_name,
            **options,  # type: ignore[arg-type]
        ).id
