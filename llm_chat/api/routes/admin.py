"""``/api/admin/...``: providers, models and the audit log, for admins only.

The same services as the admin page, so the same rules: each call checks the caller's role
in the database and refuses anyone else with 403, before anything changes.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query, Response, status

from llm_chat.api.admin_router import admin_router
from llm_chat.api.admin_schemas import (
    AuditEntryOut,
    AuditPageOut,
    ConnectionOut,
    ImportIn,
    ModelFields,
    ModelIn,
    ModelOut,
    ProviderCheckIn,
    ProviderIn,
    ProviderOut,
    ProviderPatch,
)
from llm_chat.api.deps import CurrentUser, Language
from llm_chat.api.schemas import MAX_ID, error_responses
from llm_chat.i18n import translate
from llm_chat.models import AuditTarget
from llm_chat.providers.presets import PRESETS
from llm_chat.services import audit, catalog, provider_check
from llm_chat.services.catalog import ModelSettings
from llm_chat.services.catalog_fields import KEEP
from llm_chat.services.provider_check import ProviderValues

router = admin_router()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND = error_responses(404)
# Routes that read a JSON body: it may be unreadable or too large.
BODY = error_responses(400, 413)


@router.get("/providers")
async def list_providers(user: CurrentUser) -> list[ProviderOut]:
    """Every provider, by name."""
    return [ProviderOut.of(p) for p in await catalog.list_providers(actor=user)]


@router.post("/providers", status_code=status.HTTP_201_CREATED, responses=BODY)
async def create_provider(body: ProviderIn, user: CurrentUser) -> ProviderOut:
    """Add a provider (its key and headers are stored encrypted)."""
    preset = PRESETS.get(body.kind.value)
    info = await catalog.create_provider(
        actor=user,
        name=body.name,
        kind=body.kind.value,
        base_url=body.base_url or (preset.base_url if preset else ""),
        api_key=body.api_key,
        extra_headers=body.extra_headers,
        timeout_seconds=body.timeout_seconds,
    )
    return ProviderOut.of(info)


# ``{provider_id:int}``: only a number is a provider, so that another verb on
# ``/providers/test`` is 405 (the route exists) rather than a bad provider id.
@router.patch("/providers/{provider_id:int}", responses={**NOT_FOUND, **BODY})
async def update_provider(provider_id: Id, body: ProviderPatch, user: CurrentUser) -> ProviderOut:
    """Change a provider; a new base URL needs the key (and headers) again."""
    info = await catalog.update_provider(
        actor=user,
        provider_id=provider_id,
        name=body.name,
        kind=body.kind.value if body.kind else None,
        base_url=body.base_url,
        api_key=body.api_key,
        extra_headers=body.extra_headers,
        timeout_seconds=(
            body.timeout_seconds if "timeout_seconds" in body.model_fields_set else KEEP
        ),
        enabled=body.enabled,
    )
    return ProviderOut.of(info)


@router.delete(
    "/providers/{provider_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND
)
async def delete_provider(
    provider_id: Id,
    user: CurrentUser,
    with_models: Annotated[
        bool, Query(description="Delete its models too (refused with 422 otherwise)")
    ] = False,
) -> Response:
    """Delete a provider. Conversations of its models stay and go on with the default."""
    await catalog.delete_provider(actor=user, provider_id=provider_id, with_models=with_models)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/providers/test", responses={**NOT_FOUND, **BODY})
async def test_unsaved_provider(
    body: ProviderCheckIn, user: CurrentUser, language: Language
) -> ConnectionOut:
    """Test a provider before saving it, as `.../{provider_id}/test` does a saved one: a new
    provider's values, or a saved provider's as edited. A stored key or headers never go to
    a new base URL (422 `admin.secrets_for_new_url` unless they are given again). Nothing is
    saved or audited."""
    preset = PRESETS.get(body.kind.value)
    values = ProviderValues(
        base_url=body.base_url or (preset.base_url if preset else ""),
        api_key=body.api_key if body.provider_id is not None else (body.api_key or ""),
        extra_headers=body.extra_headers,
        timeout_seconds=body.timeout_seconds,
    )
    report = await provider_check.check_values(
        actor=user, values=values, provider_id=body.provider_id
    )
    return ConnectionOut.of(report, lambda code: translate(language, code))


@router.post("/providers/{provider_id}/test", responses=NOT_FOUND)
async def test_provider(provider_id: Id, user: CurrentUser, language: Language) -> ConnectionOut:
    """List the provider's models and ask for a one-token completion, with timings and
    translated statuses (never the provider's response body)."""
    report = await provider_check.check_connection(actor=user, provider_id=provider_id)
    return ConnectionOut.of(report, lambda code: translate(language, code))


@router.post(
    "/providers/{provider_id}/import",
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, **BODY},
)
async def import_models(provider_id: Id, body: ImportIn, user: CurrentUser) -> list[ModelOut]:
    """Add the provider's models by their ids; ids it has a model for already are skipped."""
    added = await catalog.import_models(
        actor=user, provider_id=provider_id, model_names=body.model_names
    )
    return [ModelOut.of(m) for m in added]


@router.get("/models")
async def list_models(user: CurrentUser) -> list[ModelOut]:
    """Every model, by provider and name."""
    return [ModelOut.of(m) for m in await catalog.list_models(actor=user)]


def _settings(base: ModelSettings, fields: ModelFields) -> ModelSettings:
    """``base`` with the fields the client sent."""
    sent = fields.model_dump(include=set(fields.model_fields_set) & set(ModelFields.model_fields))
    if "allowed_roles" in sent:
        sent["allowed_roles"] = tuple(sent["allowed_roles"] or ())
    for required in ("provider_id", "display_name", "model_name", "system_prompt"):
        if sent.get(required, "") is None:
            del sent[required]  # null for a field that takes no null: left as it is
    for flag in ("is_reasoning", "enabled"):
        if sent.get(flag, False) is None:
            del sent[flag]
    return dataclasses.replace(base, **sent)


@router.post("/models", status_code=status.HTTP_201_CREATED, responses={**NOT_FOUND, **BODY})
async def create_model(body: ModelIn, user: CurrentUser) -> ModelOut:
    """Add a model to a provider."""
    settings = _settings(
        ModelSettings(
            provider_id=body.provider_id,
            display_name=body.display_name,
            model_name=body.model_name,
        ),
        body,
    )
    info = await catalog.create_model(
        actor=user,
        provider_id=settings.provider_id,
        display_name=settings.display_name,
        model_name=settings.model_name,
        system_prompt=settings.system_prompt,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        context_window=settings.context_window,
        is_default=body.is_default,
        top_p=settings.top_p,
        price_input=settings.price_input,
        price_output=settings.price_output,
        allowed_roles=settings.allowed_roles,
        is_reasoning=settings.is_reasoning,
        enabled=settings.enabled,
    )
    return ModelOut.of(info)


@router.patch("/models/{model_id}", responses={**NOT_FOUND, **BODY})
async def update_model(model_id: Id, body: ModelFields, user: CurrentUser) -> ModelOut:
    """Change a model; fields left out stay as they are (null clears an optional one)."""
    current = await catalog.get_model(actor=user, model_id=model_id)
    settings = _settings(ModelSettings.of(current), body)
    return ModelOut.of(await catalog.update_model(actor=user, model_id=model_id, settings=settings))


@router.delete("/models/{model_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_model(model_id: Id, user: CurrentUser) -> Response:
    """Delete a model. Its conversations stay and go on with the default model."""
    await catalog.delete_model(actor=user, model_id=model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/models/{model_id}/default", responses=NOT_FOUND)
async def make_default(model_id: Id, user: CurrentUser) -> ModelOut:
    """Make the model the one new conversations start with."""
    await catalog.set_default_model(actor=user, model_id=model_id)
    return ModelOut.of(await catalog.get_model(actor=user, model_id=model_id))


@router.get("/audit")
async def list_audit(
    user: CurrentUser,
    actor: Annotated[str, Query(max_length=255, description="The actor's email")] = "",
    target_type: Annotated[AuditTarget | None, Query()] = None,
    target_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Annotated[datetime | None, Query(description="From this time (UTC)")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPageOut:
    """Changes made by admins, newest first."""
    page = await audit.list_entries(
        actor=user,
        actor_email=actor,
        target_type=target_type.value if target_type else "",
        target_id=target_id,
        since=_naive_utc(since),
        until=_naive_utc(until),
        limit=limit,
        offset=offset,
    )
    return AuditPageOut(
        items=[AuditEntryOut.of(e) for e in page.entries],
        total=page.total,
        limit=limit,
        offset=offset,
    )


def _naive_utc(moment: datetime | None) -> datetime | None:
    """A time as stored: UTC without a zone (a time without one is taken as UTC)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
