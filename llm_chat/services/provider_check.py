"""An admin's "Test connection": is the provider reachable, does the key work, which models
does it offer. A saved provider is checked as stored; a provider being added or edited, with
the values of its form, before anything is saved (nothing is stored, so nothing is audited).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from llm_chat.db import transaction
from llm_chat.errors import NotFoundError
from llm_chat.models import Provider
from llm_chat.providers import ModelTarget, probe
from llm_chat.services.access import require_admin
from llm_chat.services.catalog_fields import check_base_url, check_headers, check_timeout
from llm_chat.services.catalog_providers import (
    keep_secrets_home,
    model_to_check,
    provider_target,
    stored_secrets,
)
from llm_chat.services.users import UserInfo

# The completion's code when the provider has no model and lists none; for values not
# saved yet, where nothing can be added or imported before saving.
NO_MODEL = "admin.check_no_model"
NOT_ASKED = "admin.check_not_asked"


@dataclass(frozen=True)
class ConnectionReport:
    """What a check found: translation codes and timings, never a response body or the key.

    A code is empty for success, else a ``provider.*`` translation key.
    """

    # ``GET /models``: how it went, how long it took, the model ids listed.
    models_code: str
    models_ms: int
    models: list[str]
    # A one-token completion from ``completion_model`` (the provider's default or first
    # model, else the first listed); NO_MODEL (NOT_ASKED for unsaved values) when there was
    # none to ask.
    completion_model: str
    completion_code: str
    completion_ms: int

    @property
    def ok(self) -> bool:
        """Whether the provider listed its models and answered the completion."""
        return not self.models_code and not self.completion_code


async def check_connection(*, actor: UserInfo, provider_id: int) -> ConnectionReport:
    """List the provider's models and ask one of them for a one-token completion.

    The requests use the stored key and headers and wait a short time at most
    (``probe.PROBE_TIMEOUT_SECONDS``); no database connection is held meanwhile.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
        ProviderError: its key cannot be decrypted.
    """
    return await _check(await provider_target(actor=actor, provider_id=provider_id))


@dataclass(frozen=True)
class ProviderValues:
    """A provider's connection as a form (or a request) has it, not saved.

    Holds a key typed by the admin: never log it or send it back.
    """

    base_url: str
    # The key typed; None: the stored one of the provider edited ("" without one).
    api_key: str | None = ""
    # The headers typed; None: the stored ones of the provider edited (none without one).
    extra_headers: Mapping[str, str] | None = None
    timeout_seconds: float | None = None

    def __repr__(self) -> str:
        return f"ProviderValues(base_url={self.base_url!r})"


@transaction
def unsaved_target(
    session: Session, *, actor: UserInfo, values: ProviderValues, provider_id: int | None = None
) -> ModelTarget:
    """How to call a provider with ``values``: a new one, or provider ``provider_id`` as
    edited. Its stored key and headers stand in for those not typed, at its stored base URL
    only (a new host gets only what the admin typed).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
        ValidationError: a bad base URL, header or timeout; ``admin.secrets_for_new_url``:
            the base URL changed while a stored key or stored headers were not typed again.
        ProviderError: the stored secrets cannot be decrypted.
    """
    require_admin(session, actor)
    base_url = check_base_url(values.base_url)
    api_key, timeout = values.api_key, check_timeout(values.timeout_seconds)
    headers = None if values.extra_headers is None else check_headers(values.extra_headers)
    model_name = ""
    if provider_id is not None:
        provider = session.get(Provider, provider_id)
        if provider is None:
            raise NotFoundError()
        if base_url != provider.base_url:
            keep_secrets_home(provider, api_key=api_key, extra_headers=headers)
        if api_key is None or headers is None:
            stored_key, stored_headers = stored_secrets(provider)
            api_key = stored_key if api_key is None else api_key
            headers = stored_headers if headers is None else headers
        model = model_to_check(session, provider_id)
        model_name = model.model_name if model else ""
    return ModelTarget(
        model_id=0,
        display_name="",
        base_url=base_url,
        api_key=(api_key or "").strip(),
        model_name=model_name,
        extra_headers=tuple((headers or {}).items()),
        timeout=timeout,
    )


async def check_values(
    *, actor: UserInfo, values: ProviderValues, provider_id: int | None = None
) -> ConnectionReport:
    """Check a provider with the values of its form before they are saved: a new provider,
    or provider ``provider_id`` as edited (see :func:`unsaved_target` for which stored
    secrets are used). Changes nothing.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: no such provider.
        ValidationError: bad values, or ``admin.secrets_for_new_url``.
        ProviderError: the stored secrets cannot be decrypted.
    """
    target = await unsaved_target(actor=actor, values=values, provider_id=provider_id)
    return await _check(target, no_model=NOT_ASKED)


async def _check(target: ModelTarget, no_model: str = NO_MODEL) -> ConnectionReport:
    """List ``target``'s models and ask its model (else the first listed) for one token;
    ``no_model`` is the completion's code when there is no model to ask."""
    listed = await probe.list_models(target)
    model = target.model_name or (listed.models[0] if listed.models else "")
    completion = probe.ProbeResult(no_model, 0)
    if model:
        completion = await probe.complete_one_token(dataclasses.replace(target, model_name=model))
    return ConnectionReport(
        models_code=listed.code,
        models_ms=listed.latency_ms,
        models=list(listed.models),
        completion_model=model,
        completion_code=completion.code,
        completion_ms=completion.latency_ms,
    )
