"""Providers and models: what users may pick, and how to reach it."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlparse

import sqlalchemy as sa
from sqlmodel import Session, col, select

from llm_chat.config import get_settings
from llm_chat.db import transaction
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import ChatModel, Provider, ProviderKind
from llm_chat.providers import ModelTarget, ProviderError
from llm_chat.providers.errors import UNAVAILABLE
from llm_chat.providers.presets import PRESETS, default_context_window
from llm_chat.security import SecretBox
from llm_chat.services.access import SYSTEM, require_admin
from llm_chat.services.users import UserInfo

logger = logging.getLogger(__name__)

# The smallest context window an admin may set: a system prompt and a short exchange.
MIN_CONTEXT_WINDOW = 512


@lru_cache(maxsize=1)
def default_box() -> SecretBox:
    """The box keyed by the configured encryption key."""
    return SecretBox(get_settings().encryption_key)


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


@dataclass(frozen=True)
class ProviderInfo:
    """A provider as the admin page shows it: whether a key is set, never the key."""

    id: int
    name: str
    kind: str
    base_url: str
    has_api_key: bool
    enabled: bool


@dataclass(frozen=True)
class ModelInfo:
    """A model as the admin page shows it."""

    id: int
    provider_id: int
    provider: str
    display_name: str
    model_name: str
    system_prompt: str
    temperature: float | None
    max_tokens: int | None
    # The window set by an admin (None: the usual one for the model, see presets).
    context_window: int | None
    enabled: bool
    is_default: bool


@transaction
def list_enabled_models(session: Session) -> list[ModelOption]:
    """Models users may pick now: enabled, from an enabled provider; default first."""
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
        )
        for m, p in rows
    ]


def find_enabled_model(session: Session, *, ref: str) -> ModelOption:
    """The enabled model ``ref`` names: by display name, else provider model id, else our id.

    An empty ``ref`` means the default model. Among equal names the default comes first.

    Raises:
        ProviderError: ``provider.model_unavailable`` if no enabled model matches.
    """
    options = list_enabled_models.within(session)
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
    _MODELS.c.max_tokens,
    _MODELS.c.context_window,
    _PROVIDERS.c.id,
    _PROVIDERS.c.name,
    _PROVIDERS.c.kind,
    _PROVIDERS.c.base_url,
    _PROVIDERS.c.api_key_encrypted,
).where(
    _MODELS.c.id == sa.bindparam("model"),
    _MODELS.c.enabled.is_(True),
    _PROVIDERS.c.id == _MODELS.c.provider_id,
    _PROVIDERS.c.enabled.is_(True),
)


def resolve_target(session: Session, *, model_id: int, box: SecretBox | None = None) -> ModelTarget:
    """How to call model ``model_id`` now (re-read on every message: admins may edit it).

    Raises:
        ProviderError: ``provider.model_unavailable`` if it is missing or disabled.
    """
    row = session.connection().execute(_TARGET, {"model": model_id}).first()
    if row is None:
        raise ProviderError(UNAVAILABLE)
    try:
        api_key = (box or default_box()).decrypt(row.api_key_encrypted)
    except ValueError as exc:
        logger.error("API key of provider %s cannot be decrypted", row.id)
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
    )


def _check_base_url(base_url: str) -> str:
    base_url = base_url.strip().rstrip("/")
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(base_url) > 500:
        raise ValidationError("admin.invalid_base_url")
    return base_url


def _clean_name(name: str, max_length: int, code: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > max_length:
        raise ValidationError(code)
    return name


@transaction
def create_provider(
    session: Session,
    *,
    actor: UserInfo,
    name: str,
    kind: str,
    base_url: str,
    api_key: str,
    box: SecretBox | None = None,
) -> ProviderInfo:
    """Add a provider; the API key is encrypted before it is stored.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: bad name, kind or URL, or the name is taken.
    """
    require_admin(session, actor)
    name = _clean_name(name, 100, "admin.invalid_provider_name")
    if kind not in {k.value for k in ProviderKind}:
        raise ValidationError("admin.invalid_provider_kind")
    if session.exec(select(Provider.id).where(Provider.name == name)).first() is not None:
        raise ValidationError("admin.provider_name_taken")
    provider = Provider(
        name=name,
        kind=kind,
        base_url=_check_base_url(base_url),
        api_key_encrypted=(box or default_box()).encrypt(api_key.strip()),
    )
    session.add(provider)
    session.flush()
    return _provider_info(provider)


@transaction
def update_provider(
    session: Session,
    *,
    actor: UserInfo,
    provider_id: int,
    base_url: str | None = None,
    api_key: str | None = None,
    enabled: bool | None = None,
    box: SecretBox | None = None,
) -> ProviderInfo:
    """Change a provider; ``None`` leaves a field as it is (an empty key clears it).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
    """
    require_admin(session, actor)
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFoundError()
    if base_url is not None:
        provider.base_url = _check_base_url(base_url)
    if api_key is not None:
        provider.api_key_encrypted = (box or default_box()).encrypt(api_key.strip())
    if enabled is not None:
        provider.enabled = enabled
    session.add(provider)
    return _provider_info(provider)


def _provider_info(p: Provider) -> ProviderInfo:
    return ProviderInfo(
        id=p.id or 0,
        name=p.name,
        kind=p.kind,
        base_url=p.base_url,
        has_api_key=bool(p.api_key_encrypted),
        enabled=p.enabled,
    )


@transaction
def list_providers(session: Session, *, actor: UserInfo) -> list[ProviderInfo]:
    """Every provider, for the admin page.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
    """
    require_admin(session, actor)
    return [_provider_info(p) for p in session.exec(select(Provider).order_by(Provider.name))]


@transaction
def create_model(
    session: Session,
    *,
    actor: UserInfo,
    provider_id: int,
    display_name: str,
    model_name: str,
    system_prompt: str = "",
    temperature: float | None = None,
    max_tokens: int | None = None,
    context_window: int | None = None,
    is_default: bool = False,
) -> ModelInfo:
    """Add a model to a provider.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: bad names or parameters.
        NotFoundError: no such provider.
    """
    require_admin(session, actor)
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFoundError()
    display_name = _clean_name(display_name, 100, "admin.invalid_model_name")
    model_name = model_name.strip()
    if not model_name or len(model_name) > 200:
        raise ValidationError("admin.invalid_model_id")
    if temperature is not None and not 0.0 <= temperature <= 2.0:
        raise ValidationError("admin.invalid_temperature")
    if max_tokens is not None and not 1 <= max_tokens <= 1_000_000:
        raise ValidationError("admin.invalid_max_tokens")
    if context_window is not None and not MIN_CONTEXT_WINDOW <= context_window <= 10_000_000:
        raise ValidationError("admin.invalid_context_window")
    model = ChatModel(
        provider_id=provider_id,
        display_name=display_name,
        model_name=model_name,
        system_prompt=system_prompt.strip(),
        temperature=temperature,
        max_tokens=max_tokens,
        context_window=context_window,
    )
    session.add(model)
    session.flush()
    if (
        is_default
        or not session.exec(select(ChatModel.id).where(col(ChatModel.is_default).is_(True))).first()
    ):
        _make_default(session, model.id or 0)
    return _model_info(model, provider)


@transaction
def set_model_enabled(session: Session, *, actor: UserInfo, model_id: int, enabled: bool) -> None:
    """Enable or disable a model; users see it on their next interaction.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such model.
    """
    require_admin(session, actor)
    model = session.get(ChatModel, model_id)
    if model is None:
        raise NotFoundError()
    model.enabled = enabled
    session.add(model)


@transaction
def set_default_model(session: Session, *, actor: UserInfo, model_id: int) -> None:
    """Make ``model_id`` the model new conversations start with.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such model.
    """
    require_admin(session, actor)
    _make_default(session, model_id)


def _make_default(session: Session, model_id: int) -> None:
    for model in session.exec(select(ChatModel).where(col(ChatModel.is_default).is_(True))):
        model.is_default = False
        session.add(model)
    model = session.get(ChatModel, model_id)
    if model is None:
        raise NotFoundError()
    model.is_default = True
    session.add(model)


def _model_info(m: ChatModel, p: Provider) -> ModelInfo:
    return ModelInfo(
        id=m.id or 0,
        provider_id=p.id or 0,
        provider=p.name,
        display_name=m.display_name,
        model_name=m.model_name,
        system_prompt=m.system_prompt,
        temperature=m.temperature,
        max_tokens=m.max_tokens,
        context_window=m.context_window,
        enabled=m.enabled,
        is_default=m.is_default,
    )


@transaction
def list_models(session: Session, *, actor: UserInfo) -> list[ModelInfo]:
    """Every model with its provider, for the admin page.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
    """
    require_admin(session, actor)
    rows = session.exec(
        select(ChatModel, Provider)
        .join(Provider, col(Provider.id) == ChatModel.provider_id)
        .order_by(col(Provider.name), col(ChatModel.display_name))
    ).all()
    return [_model_info(m, p) for m, p in rows]


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
            )
        created.append(info.name)
        logger.info("Created provider %s from %s", info.name, preset.api_key_env)
    return created
