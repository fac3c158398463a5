"""Models as admins manage them: add, import, change, delete, enable, make default; each
change audited."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlmodel import Session, col, select

from llm_chat.db import transaction
from llm_chat.errors import NotFoundError
from llm_chat.models import AuditAction, AuditTarget, ChatModel, Provider
from llm_chat.providers.presets import looks_like_reasoning
from llm_chat.services import audit
from llm_chat.services.access import require_admin
from llm_chat.services.catalog_fields import (
    ModelInfo,
    ModelSettings,
    check_model,
    model_info,
    model_snapshot,
)
from llm_chat.services.users import UserInfo


def _provider(session: Session, provider_id: int) -> Provider:
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFoundError()
    return provider


def _model(session: Session, model_id: int) -> tuple[ChatModel, Provider]:
    model = session.get(ChatModel, model_id)
    if model is None:
        raise NotFoundError()
    return model, _provider(session, model.provider_id)


def _apply(model: ChatModel, settings: ModelSettings) -> None:
    model.provider_id = settings.provider_id
    model.display_name = settings.display_name
    model.model_name = settings.model_name
    model.system_prompt = settings.system_prompt
    model.temperature = settings.temperature
    model.top_p = settings.top_p
    model.max_tokens = settings.max_tokens
    model.context_window = settings.context_window
    model.price_input = settings.price_input
    model.price_output = settings.price_output
    model.allowed_roles = ",".join(settings.allowed_roles)
    model.is_reasoning = settings.is_reasoning
    model.enabled = settings.enabled


def _audit(
    session: Session,
    actor: UserInfo,
    action: AuditAction,
    before: ModelInfo | None,
    after: ModelInfo | None,
) -> None:
    current = after or before
    assert current is not None
    old, new = audit.changes(
        model_snapshot(before) if before else {}, model_snapshot(after) if after else {}
    )
    if old or new:
        audit.record(
            session,
            actor=actor,
            action=action,
            target_type=AuditTarget.MODEL,
            target_id=current.id,
            target_name=current.display_name,
            old=old,
            new=new,
        )


def _add(
    session: Session,
    actor: UserInfo,
    settings: ModelSettings,
    is_default: bool,
    action: AuditAction,
) -> ModelInfo:
    settings = check_model(settings)
    provider = _provider(session, settings.provider_id)
    model = ChatModel(provider_id=settings.provider_id, display_name="", model_name="")
    _apply(model, settings)
    session.add(model)
    session.flush()
    has_default = session.exec(
        select(ChatModel.id).where(col(ChatModel.is_default).is_(True))
    ).first()
    if is_default or not has_default:
        _make_default(session, model)
    info = model_info(model, provider)
    _audit(session, actor, action, None, info)
    return info


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
    top_p: float | None = None,
    price_input: Decimal | None = None,
    price_output: Decimal | None = None,
    allowed_roles: Iterable[str] = (),
    is_reasoning: bool = False,
    enabled: bool = True,
) -> ModelInfo:
    """Add a model to a provider (the first model becomes the default).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: bad names or parameters.
        NotFoundError: no such provider.
    """
    require_admin(session, actor)
    settings = ModelSettings(
        provider_id=provider_id,
        display_name=display_name,
        model_name=model_name,
        system_prompt=system_prompt,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        context_window=context_window,
        price_input=price_input,
        price_output=price_output,
        allowed_roles=tuple(allowed_roles),
        is_reasoning=is_reasoning,
        enabled=enabled,
    )
    return _add(session, actor, settings, is_default, AuditAction.MODEL_CREATE)


@transaction
def import_models(
    session: Session, *, actor: UserInfo, provider_id: int, model_names: Iterable[str]
) -> list[ModelInfo]:
    """Add the provider's models named ``model_names`` (as its ``/models`` lists them), each
    under its own id as display name; ids the provider has a model for already are skipped.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
        ValidationError: an id is empty or too long.
    """
    require_admin(session, actor)
    _provider(session, provider_id)
    existing = set(
        session.exec(select(ChatModel.model_name).where(ChatModel.provider_id == provider_id))
    )
    added: list[ModelInfo] = []
    for name in dict.fromkeys(n.strip() for n in model_names):
        if not name or name in existing:
            continue
        settings = ModelSettings(
            provider_id=provider_id,
            display_name=name[:100],
            model_name=name,
            is_reasoning=looks_like_reasoning(name),
        )
        added.append(_add(session, actor, settings, False, AuditAction.MODEL_IMPORT))
        existing.add(name)
    return added


@transaction
def update_model(
    session: Session, *, actor: UserInfo, model_id: int, settings: ModelSettings
) -> ModelInfo:
    """Give a model new settings (all of them: see :meth:`ModelSettings.of`).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such model or provider.
        ValidationError: bad names or parameters.
    """
    require_admin(session, actor)
    model, provider = _model(session, model_id)
    before = model_info(model, provider)
    settings = check_model(settings)
    provider = _provider(session, settings.provider_id)
    _apply(model, settings)
    session.add(model)
    session.flush()
    after = model_info(model, provider)
    _audit(session, actor, AuditAction.MODEL_UPDATE, before, after)
    return after


@transaction
def delete_model(session: Session, *, actor: UserInfo, model_id: int) -> None:
    """Delete a model. Its conversations and replies stay: their model becomes none, so
    they go on with the default model. Deleting the default makes another model default.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such model.
    """
    require_admin(session, actor)
    model, provider = _model(session, model_id)
    before = model_info(model, provider)
    session.delete(model)
    session.flush()
    _audit(session, actor, AuditAction.MODEL_DELETE, before, None)
    if before.is_default:
        pick_new_default(session, actor=actor)


def pick_new_default(session: Session, *, actor: UserInfo) -> None:
    """After the default model was deleted: the oldest enabled model (else any) becomes it."""
    model = session.exec(
        select(ChatModel).order_by(col(ChatModel.enabled).desc(), col(ChatModel.id))
    ).first()
    if model is not None:
        provider = _provider(session, model.provider_id)
        before = model_info(model, provider)
        _make_default(session, model)
        _audit(session, actor, AuditAction.MODEL_DEFAULT, before, model_info(model, provider))


@transaction
def set_model_enabled(session: Session, *, actor: UserInfo, model_id: int, enabled: bool) -> None:
    """Enable or disable a model; users see it on their next interaction.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such model.
    """
    require_admin(session, actor)
    model, provider = _model(session, model_id)
    before = model_info(model, provider)
    model.enabled = enabled
    session.add(model)
    _audit(session, actor, AuditAction.MODEL_UPDATE, before, model_info(model, provider))


@transaction
def set_default_model(session: Session, *, actor: UserInfo, model_id: int) -> None:
    """Make ``model_id`` the model new conversations start with.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such model.
    """
    require_admin(session, actor)
    model, provider = _model(session, model_id)
    before = model_info(model, provider)
    _make_default(session, model)
    _audit(session, actor, AuditAction.MODEL_DEFAULT, before, model_info(model, provider))


def _make_default(session: Session, model: ChatModel) -> None:
    for other in session.exec(select(ChatModel).where(col(ChatModel.is_default).is_(True))):
        if other.id != model.id:
            other.is_default = False
            session.add(other)
    model.is_default = True
    session.add(model)


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
    return [model_info(m, p) for m, p in rows]


@transaction
def get_model(session: Session, *, actor: UserInfo, model_id: int) -> ModelInfo:
    """One model, for an edit.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such model.
    """
    require_admin(session, actor)
    return model_info(*_model(session, model_id))
