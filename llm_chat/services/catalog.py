"""Providers and models: what users may pick, and how to reach it.

The admin side lives in ``catalog_providers`` and ``catalog_models``; its services are
named here too, so that callers find the whole catalog in one place.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from llm_chat.db import transaction
from llm_chat.models import ChatModel, Provider
from llm_chat.providers import ModelTarget, ProviderError
from llm_chat.providers.errors import UNAVAILABLE
from llm_chat.providers.presets import PRESETS, default_context_window, looks_like_reasoning
from llm_chat.security import SecretBox
from llm_chat.services.access import SYSTEM
from llm_chat.services.catalog_fields import (
    MIN_CONTEXT_WINDOW,
    ModelInfo,
    ModelSettings,
    ProviderInfo,
    decrypt_headers,
    may_use,
)
from llm_chat.services.catalog_models import (
    create_model,
    delete_model,
    get_model,
    import_models,
    list_models,
    set_default_model,
    set_model_enabled,
    update_model,
)
from llm_chat.services.catalog_providers import (
    create_provider,
    default_box,
    delete_provider,
    list_providers,
    provider_target,
    update_provider,
)

__all__ = [
    "MIN_CONTEXT_WINDOW",
    "ModelInfo",
    "ModelOption",
    "ModelSettings",
    "ProviderInfo",
    "create_model",
    "create_provider",
    "default_box",
    "delete_model",
    "delete_provider",
    "find_enabled_model",
    "get_model",
    "import_models",
    "list_enabled_models",
    "list_models",
    "list_providers",
    "provider_target",
    "resolve_target",
    "seed_from_environment",
    "set_default_model",
    "set_model_enabled",
    "update_model",
    "update_provider",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelOption:
    """A model as the chat view's dropdown (and the API's model list) shows it."""

    id: int
    name: str
    provider: str
    is_default: bool
    # The provider's id for the model ("gpt-4o-mini"), and when it was added.
    model_name: str = ""
    created_at: datetime | None = None
    # Whether it thinks before it answers (its replies carry reasoning).
    is_reasoning: bool = False


@transaction
def list_enabled_models(session: Session, *, role: str | None = None) -> list[ModelOption]:
    """Models users of ``role`` may pick now: enabled, from an enabled provider, open to the
    role; the default first.

    ``role`` None lists only the models open to every role (a caller that does not say
    whose list it is gets no model limited to some roles).
    """
    rows = session.exec(
        select(ChatModel, Provider)
        .join(Provider, col(Provider.id) == ChatModel.provider_id)
        .where(col(ChatModel.enabled).is_(True), col(Provider.enabled).is_(True))
        .order_by(col(ChatModel.is_default).desc(), col(ChatModel.display_name), col(ChatModel.id))
    ).all()
    return [
        ModelOption(
            id=m.id or 0,
            name=m.display_name,
            provider=p.name,
            is_default=m.is_default,
            model_name=m.model_name,
            created_at=m.created_at,
            is_reasoning=m.is_reasoning,
        )
        for m, p in rows
        if may_use(m.allowed_roles, role)
    ]


def find_enabled_model(session: Session, *, ref: str, role: str | None = None) -> ModelOption:
    """The enabled model ``ref`` names that ``role`` may use: by display name, else provider
    model id, else our id.

    An empty ``ref`` means the default model. Among equal names the default comes first.

    Raises:
        ProviderError: ``provider.model_unavailable`` if no enabled model matches.
    """
    options = list_enabled_models.within(session, role=role)
    ref = ref.strip()
    if not ref:
        if options:
            return options[0]
        raise ProviderError(UNAVAILABLE)
    for matches in (
        lambda o: o.name == ref,
        lambda o: o.model_name == ref,
        lambda o: str(o.id) == ref,
    ):
        found = next((o for o in options if matches(o)), None)
        if found is not None:
            return found
    raise ProviderError(UNAVAILABLE)


_MODELS = ChatModel.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
_PROVIDERS = Provider.__table__  # type: ignore[attr-defined]
# Read for every message: a plain statement built once (values at execution), no ORM objects.
_TARGET = sa.select(
    _MODELS.c.display_name,
    _MODELS.c.model_name,
    _MODELS.c.system_prompt,
    _MODELS.c.temperature,
    _MODELS.c.top_p,
    _MODELS.c.max_tokens,
    _MODELS.c.context_window,
    _MODELS.c.allowed_roles,
    _MODELS.c.is_reasoning,
    _MODELS.c.price_input,
    _MODELS.c.price_output,
    _PROVIDERS.c.id,
    _PROVIDERS.c.name,
    _PROVIDERS.c.kind,
    _PROVIDERS.c.base_url,
    _PROVIDERS.c.api_key_encrypted,
    _PROVIDERS.c.extra_headers_encrypted,
    _PROVIDERS.c.timeout_seconds,
).where(
    _MODELS.c.id == sa.bindparam("model"),
    _MODELS.c.enabled.is_(True),
    _PROVIDERS.c.id == _MODELS.c.provider_id,
    _PROVIDERS.c.enabled.is_(True),
)


def resolve_target(
    session: Session, *, model_id: int, role: str | None = None, box: SecretBox | None = None
) -> ModelTarget:
    """How to call model ``model_id`` for a user of ``role`` now (re-read on every message:
    admins may edit it). ``role`` None may use only models open to every role.

    Raises:
        ProviderError: ``provider.model_unavailable`` if it is missing, disabled or not open
            to ``role``.
    """
    row = session.connection().execute(_TARGET, {"model": model_id}).first()
    if row is None or not may_use(row.allowed_roles, role):
        raise ProviderError(UNAVAILABLE)
    box = box or default_box()
    try:
        api_key = box.decrypt(row.api_key_encrypted)
        headers = decrypt_headers(row.extra_headers_encrypted, box)
    except ValueError as exc:
        logger.error("API key or headers of provider %s cannot be decrypted", row.id)
        raise ProviderError(UNAVAILABLE, "undecryptable key") from exc
    return ModelTarget(
        model_id=model_id,
        display_name=row.display_name,
        base_url=row.base_url,
        api_key=api_key,
        model_name=row.model_name,
        system_prompt=row.system_prompt,
        temperature=row.temperature,
        max_tokens=row.max_tokens,
        provider_name=row.name,
        context_window=row.context_window or default_context_window(row.kind, row.model_name),
        top_p=row.top_p,
        extra_headers=tuple(headers.items()),
        timeout=row.timeout_seconds,
        is_reasoning=bool(row.is_reasoning),
        price_input=row.price_input,
        price_output=row.price_output,
    )


def seed_from_environment(
    session: Session, *, environ: Mapping[str, str] | None = None, box: SecretBox | None = None
) -> list[str]:
    """Create the provider and usual models for each API key found in the environment.

    Only kinds that have no provider yet are created, so this is safe on every start.

    Returns:
        The names of the providers created.
    """
    environ = os.environ if environ is None else environ
    created: list[str] = []
    for preset in PRESETS.values():
        key = environ.get(preset.api_key_env, "") if preset.api_key_env else ""
        if not key:
            continue
        if session.exec(select(Provider.id).where(Provider.kind == preset.kind.value)).first():
            continue
        base_url = environ.get(f"{preset.kind.value.upper()}_BASE_URL") or preset.base_url
        info = create_provider.within(
            session,
            actor=SYSTEM,
            name=preset.label,
            kind=preset.kind.value,
            base_url=base_url,
            api_key=key,
            box=box,
        )
        for model_name in preset.models:
            create_model.within(
                session,
                actor=SYSTEM,
                provider_id=info.id,
                display_name=model_name,
                model_name=model_name,
                is_reasoning=looks_like_reasoning(model_name),
            )
        created.append(info.name)
        logger.info("Created provider %s from %s", info.name, preset.api_key_env)
    return created
