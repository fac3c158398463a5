"""An admin's "Test connection": is the provider reachable, does the key work, which models
does it offer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from llm_chat.providers import probe
from llm_chat.services.catalog_providers import provider_target
from llm_chat.services.users import UserInfo

# The completion's code when the provider has no model and lists none.
NO_MODEL = "admin.check_no_model"


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
    # model, else the first listed); ``admin.check_no_model`` when there was none to ask.
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
    target = await provider_target(actor=actor, provider_id=provider_id)
    listed = await probe.list_models(target)
    model = target.model_name or (listed.models[0] if listed.models else "")
    completion = probe.ProbeResult(NO_MODEL, 0)
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
