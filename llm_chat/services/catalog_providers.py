"""Providers as admins manage them: add, change, delete, list; each change audited.

A provider's API key and extra headers are stored encrypted and never leave the services
except in a :class:`~llm_chat.providers.ModelTarget` for a call to that provider. A new base
URL needs them entered again, so a stored secret is never sent to another host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TypeVar

from sqlmodel import Session, col, func, select

from llm_chat.config import get_settings
from llm_chat.db import transaction
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import AuditAction, AuditTarget, ChatModel, Provider
from llm_chat.providers import ModelTarget, ProviderError
from llm_chat.providers.errors import UNAVAILABLE
from llm_chat.security import SecretBox
from llm_chat.services import audit
from llm_chat.services.access import require_admin
from llm_chat.services.catalog_fields import (
    KEEP,
    REPLACED,
    Keep,
    ProviderInfo,
    check_base_url,
    check_headers,
    check_kind,
    check_timeout,
    clean_name,
    decrypt_headers,
    encrypt_headers,
    model_info,
    model_snapshot,
    provider_info,
    provider_snapshot,
)
from llm_chat.services.catalog_models import pick_new_default
from llm_chat.services.users import UserInfo

logger = logging.getLogger(__name__)
T = TypeVar("T")


@lru_cache(maxsize=1)
def default_box() -> SecretBox:
    """The box keyed by the configured encryption key."""
    return SecretBox(get_settings().encryption_key)


def header_names(provider: Provider, box: SecretBox | None = None) -> list[str]:
    """The names of the provider's extra headers ([] if they cannot be decrypted)."""
    try:
        return list(decrypt_headers(provider.extra_headers_encrypted, box or default_box()))
    except ValueError:
        logger.error("Extra headers of provider %s cannot be decrypted", provider.id)
        return []


def _info(session: Session, provider: Provider, box: SecretBox | None = None) -> ProviderInfo:
    count = session.exec(
        select(func.count()).select_from(ChatModel).where(ChatModel.provider_id == provider.id)
    ).one()
    return provider_info(provider, header_names=header_names(provider, box), models=count)


def _readable(decrypt: Callable[[], T]) -> T | None:
    """What ``decrypt`` gives, or None if the stored secret cannot be decrypted."""
    try:
        return decrypt()
    except ValueError:
        return None


def _name_taken(session: Session, name: str, but: int | None = None) -> bool:
    query = select(Provider.id).where(Provider.name == name)
    if but is not None:
        query = query.where(col(Provider.id) != but)
    return session.exec(query).first() is not None


def keep_secrets_home(
    provider: Provider, *, api_key: str | None, extra_headers: Mapping[str, str] | None
) -> None:
    """Refuse to take ``provider``'s stored key or headers to a new base URL: they were given
    for its old host, and go to a new one only if the admin enters them again (``None``:
    not entered).

    Raises:
        ValidationError: ``admin.secrets_for_new_url``.
    """
    if (provider.api_key_encrypted and api_key is None) or (
        provider.extra_headers_encrypted and extra_headers is None
    ):
        raise ValidationError("admin.secrets_for_new_url")


@transaction
def create_provider(
    session: Session,
    *,
    actor: UserInfo,
    name: str,
    kind: str,
    base_url: str,
    api_key: str,
    extra_headers: Mapping[str, str] | None = None,
    timeout_seconds: float | None = None,
    box: SecretBox | None = None,
) -> ProviderInfo:
    """Add a provider; the API key and extra headers are encrypted before they are stored.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: bad name, kind, URL, headers or timeout, or the name is taken.
    """
    require_admin(session, actor)
    box = box or default_box()
    name = clean_name(name, 100, "admin.invalid_provider_name")
    if _name_taken(session, name):
        raise ValidationError("admin.provider_name_taken")
    provider = Provider(
        name=name,
        kind=check_kind(kind),
        base_url=check_base_url(base_url),
        api_key_encrypted=box.encrypt(api_key.strip()),
        extra_headers_encrypted=encrypt_headers(check_headers(extra_headers or {}), box),
        timeout_seconds=check_timeout(timeout_seconds),
    )
    session.add(provider)
    session.flush()
    info = _info(session, provider, box)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PROVIDER_CREATE,
        target_type=AuditTarget.PROVIDER,
        target_id=info.id,
        target_name=info.name,
        new=provider_snapshot(info),
    )
    return info


@transaction
def update_provider(
    session: Session,
    *,
    actor: UserInfo,
    provider_id: int,
    name: str | None = None,
    kind: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    timeout_seconds: float | Keep | None = KEEP,
    enabled: bool | None = None,
    box: SecretBox | None = None,
) -> ProviderInfo:
    """Change a provider; ``None`` (``KEEP`` for the timeout) leaves a field as it is.

    An empty ``api_key`` or ``extra_headers`` clears it.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
        ValidationError: bad input; the name is taken; ``admin.secrets_for_new_url``: the
            base URL changes while a stored key or stored headers are not given again.
    """
    require_admin(session, actor)
    box = box or default_box()
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFoundError()
    before = _info(session, provider, box)
    old_key, old_headers = provider.api_key_encrypted, provider.extra_headers_encrypted
    if name is not None:
        provider.name = clean_name(name, 100, "admin.invalid_provider_name")
        if _name_taken(session, provider.name, but=provider_id):
            raise ValidationError("admin.provider_name_taken")
    if kind is not None:
        provider.kind = check_kind(kind)
    if base_url is not None and check_base_url(base_url) != provider.base_url:
        keep_secrets_home(provider, api_key=api_key, extra_headers=extra_headers)
        provider.base_url = check_base_url(base_url)
    if api_key is not None:
        provider.api_key_encrypted = box.encrypt(api_key.strip())
    if extra_headers is not None:
        provider.extra_headers_encrypted = encrypt_headers(check_headers(extra_headers), box)
    if not isinstance(timeout_seconds, Keep):
        provider.timeout_seconds = check_timeout(timeout_seconds)
    if enabled is not None:
        provider.enabled = enabled
    session.add(provider)
    session.flush()
    after = _info(session, provider, box)
    new_snapshot = provider_snapshot(after)
    # A secret replaced by another shows as replaced, never by value.
    if old_key and api_key and _readable(lambda: box.decrypt(old_key)) != api_key.strip():
        new_snapshot["api_key"] = REPLACED
    if old_headers and extra_headers is not None:
        previous = _readable(lambda: decrypt_headers(old_headers, box)) or {}
        for header, value in check_headers(extra_headers).items():
            if previous.get(header, value) != value:
                new_snapshot["extra_headers"][header] = REPLACED
    old, new = audit.changes(provider_snapshot(before), new_snapshot)
    if old or new:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.PROVIDER_UPDATE,
            target_type=AuditTarget.PROVIDER,
            target_id=provider_id,
            target_name=after.name,
            old=old,
            new=new,
        )
    return after


@transaction
def delete_provider(
    session: Session, *, actor: UserInfo, provider_id: int, with_models: bool = False
) -> None:
    """Delete a provider, and its models if ``with_models``.

    Conversations and replies of its models stay (their model becomes none, so they go on
    with the default model).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
        ValidationError: ``admin.provider_has_models`` when it has models and
            ``with_models`` is false.
    """
    require_admin(session, actor)
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFoundError()
    models = session.exec(select(ChatModel).where(ChatModel.provider_id == provider_id)).all()
    if models and not with_models:
        raise ValidationError("admin.provider_has_models")
    info = _info(session, provider)
    for model in models:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.MODEL_DELETE,
            target_type=AuditTarget.MODEL,
            target_id=model.id,
            target_name=model.display_name,
            old=model_snapshot(model_info(model, provider)),
        )
        session.delete(model)
    session.flush()
    session.delete(provider)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PROVIDER_DELETE,
        target_type=AuditTarget.PROVIDER,
        target_id=provider_id,
        target_name=info.name,
        old=provider_snapshot(info),
    )
    if any(m.is_default for m in models):
        session.flush()
        pick_new_default(session, actor=actor)


@transaction
def list_providers(session: Session, *, actor: UserInfo) -> list[ProviderInfo]:
    """Every provider, for the admin page.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
    """
    require_admin(session, actor)
    return [_info(session, p) for p in session.exec(select(Provider).order_by(Provider.name))]


def model_to_check(session: Session, provider_id: int) -> ChatModel | None:
    """The model a connection test asks: the provider's default, else its first enabled,
    else its first model (None if it has none)."""
    return session.exec(
        select(ChatModel)
        .where(ChatModel.provider_id == provider_id)
        .order_by(
            col(ChatModel.is_default).desc(), col(ChatModel.enabled).desc(), col(ChatModel.id)
        )
    ).first()


def stored_secrets(provider: Provider) -> tuple[str, dict[str, str]]:
    """The provider's API key and extra headers, decrypted: only for a call to its host.

    Raises:
        ProviderError: they cannot be decrypted.
    """
    box = default_box()
    try:
        api_key = box.decrypt(provider.api_key_encrypted)
        headers = decrypt_headers(provider.extra_headers_encrypted, box)
    except ValueError as exc:
        logger.error("Secrets of provider %s cannot be decrypted", provider.id)
        raise ProviderError(UNAVAILABLE, "undecryptable key") from exc
    return api_key, headers


@transaction
def provider_target(session: Session, *, actor: UserInfo, provider_id: int) -> ModelTarget:
    """How to call provider ``provider_id`` (enabled or not) to check it: its default or
    first model's id, or "" if it has none.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
        ProviderError: its key or headers cannot be decrypted.
    """
    require_admin(session, actor)
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFoundError()
    model = model_to_check(session, provider_id)
    api_key, headers = stored_secrets(provider)
    return ModelTarget(
        model_id=model.id or 0 if model else 0,
        display_name=model.display_name if model else "",
        base_url=provider.base_url,
        api_key=api_key,
        model_name=model.model_name if model else "",
        provider_name=provider.name,
        extra_headers=tuple(headers.items()),
        timeout=provider.timeout_seconds,
    )
