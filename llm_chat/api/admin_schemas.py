"""What goes in and out of the /api/admin routes. Keys and header values go in, never out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from llm_chat.api.schemas import MAX_ID, as_utc
from llm_chat.models import ProviderKind, Role
from llm_chat.services.audit import AuditView
from llm_chat.services.catalog_fields import MAX_HEADERS, MAX_PRICE, ModelInfo, ProviderInfo
from llm_chat.services.provider_check import ConnectionReport

Headers = dict[str, str]
Price = Decimal
PER_MILLION = "Per million tokens, in the currency of `GET /api/admin/prices`"


class ProviderIn(BaseModel):
    """A new provider."""

    name: str = Field(min_length=1, max_length=100, examples=["OpenAI"])
    kind: ProviderKind = ProviderKind.CUSTOM
    base_url: str = Field(
        default="",
        max_length=500,
        description="Empty: the kind's usual URL (required for `custom`)",
        examples=["https://api.openai.com/v1"],
    )
    api_key: str = Field(default="", max_length=1000, description="Stored encrypted")
    extra_headers: Headers = Field(
        default_factory=dict,
        max_length=MAX_HEADERS,
        description="Sent with every request; stored encrypted, only their names are shown",
    )
    timeout_seconds: float | None = Field(
        default=None, ge=1, le=600, description="Null: the app's LLM_CHAT_PROVIDER_TIMEOUT"
    )


class ProviderPatch(BaseModel):
    """Changes to a provider; fields left out stay as they are.

    A new `base_url` needs `api_key` (and `extra_headers`, if it has some) again: stored
    secrets are never sent to a new host.
    """

    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: ProviderKind | None = None
    base_url: str | None = Field(default=None, max_length=500)
    api_key: str | None = Field(default=None, max_length=1000, description="Empty: no key")
    extra_headers: Headers | None = Field(default=None, max_length=MAX_HEADERS)
    timeout_seconds: float | None = Field(default=None, ge=1, le=600)
    enabled: bool | None = None


class ProviderCheckIn(BaseModel):
    """A provider's connection to test before it is saved: a new provider's, or
    `provider_id`'s as edited. Nothing is saved, so nothing is audited."""

    provider_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="A saved provider, as edited: its stored key and headers stand in for "
        "`api_key` and `extra_headers` left null, at its stored base URL only",
    )
    kind: ProviderKind = ProviderKind.CUSTOM
    base_url: str = Field(
        default="",
        max_length=500,
        description="Empty: the kind's usual URL",
        examples=["https://api.openai.com/v1"],
    )
    api_key: str | None = Field(
        default=None,
        max_length=1000,
        description="Null: none (with `provider_id`: the stored one); never stored or returned",
    )
    extra_headers: Headers | None = Field(
        default=None,
        max_length=MAX_HEADERS,
        description="Null: none (with `provider_id`: the stored ones)",
    )
    timeout_seconds: float | None = Field(
        default=None, ge=1, le=600, description="A test waits 15 s at most per request"
    )


class ProviderOut(BaseModel):
    """A provider: whether it has a key and which headers it sends, never their values."""

    id: int
    name: str
    kind: ProviderKind
    kind_label: str
    base_url: str
    base_url_from_kind: bool = Field(description="Whether the URL is the kind's usual one")
    has_api_key: bool
    header_names: list[str]
    timeout_seconds: float | None
    enabled: bool
    model_count: int

    @classmethod
    def of(cls, info: ProviderInfo) -> ProviderOut:
        """The API's view of a provider."""
        return cls(
            id=info.id,
            name=info.name,
            kind=ProviderKind(info.kind),
            kind_label=info.kind_label,
            base_url=info.base_url,
            base_url_from_kind=info.base_url_from_kind,
            has_api_key=info.has_api_key,
            header_names=list(info.header_names),
            timeout_seconds=info.timeout_seconds,
            enabled=info.enabled,
            model_count=info.model_count,
        )


class ModelFields(BaseModel):
    """A model's settings as a client may set them (each optional in a change)."""

    provider_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    model_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="The provider's id"
    )
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    context_window: int | None = Field(default=None, ge=512, le=10_000_000)
    price_input: Price | None = Field(
        default=None, ge=0, le=MAX_PRICE, decimal_places=6, description=PER_MILLION
    )
    price_output: Price | None = Field(
        default=None, ge=0, le=MAX_PRICE, decimal_places=6, description=PER_MILLION
    )
    allowed_roles: list[Role] | None = Field(
        default=None, max_length=len(Role), description="Empty: every role"
    )
    is_reasoning: bool | None = None
    enabled: bool | None = None


class ModelIn(ModelFields):
    """A new model."""

    provider_id: int = Field(ge=1, le=2**31 - 1)  # type: ignore[assignment]
    display_name: str = Field(min_length=1, max_length=100)  # type: ignore[assignment]
    model_name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    is_default: bool = False


class ModelOut(BaseModel):
    """A model with every setting."""

    id: int
    provider_id: int
    provider: str
    display_name: str
    model_name: str
    system_prompt: str
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    context_window: int | None
    price_input: Price | None
    price_output: Price | None
    allowed_roles: list[str]
    is_reasoning: bool
    enabled: bool
    is_default: bool

    @classmethod
    def of(cls, info: ModelInfo) -> ModelOut:
        """The API's view of a model."""
        return cls(
            id=info.id,
            provider_id=info.provider_id,
            provider=info.provider,
            display_name=info.display_name,
            model_name=info.model_name,
            system_prompt=info.system_prompt,
            temperature=info.temperature,
            top_p=info.top_p,
            max_tokens=info.max_tokens,
            context_window=info.context_window,
            price_input=info.price_input,
            price_output=info.price_output,
            allowed_roles=list(info.allowed_roles),
            is_reasoning=info.is_reasoning,
            enabled=info.enabled,
            is_default=info.is_default,
        )


class ImportIn(BaseModel):
    """Model ids as the provider lists them (``POST .../test`` returns them)."""

    model_names: list[str] = Field(min_length=1, max_length=500)


class CheckStep(BaseModel):
    """How one request of a connection test went."""

    ok: bool
    status: str = Field(description="Empty, or a code such as `provider.auth`")
    message: str = Field(description="The status in the caller's language")
    latency_ms: int


class ConnectionOut(BaseModel):
    """A connection test: the model list and a one-token completion."""

    ok: bool
    models: list[str] = Field(description="The model ids the provider lists")
    list_models: CheckStep
    completion_model: str = Field(description="Empty: there was no model to ask")
    completion: CheckStep

    @classmethod
    def of(cls, report: ConnectionReport, translate: Any) -> ConnectionOut:
        """The API's view of a report; ``translate(code)`` gives a code's text."""

        def step(code: str, ms: int) -> CheckStep:
            return CheckStep(
                ok=not code,
                status=code,
                message=translate(code or "admin.check_ok"),
                latency_ms=ms,
            )

        return cls(
            ok=report.ok,
            models=report.models,
            list_models=step(report.models_code, report.models_ms),
            completion_model=report.completion_model,
            completion=step(report.completion_code, report.completion_ms),
        )


class AuditEntryOut(BaseModel):
    """One change: who, what, when, the fields before and after (secrets masked)."""

    id: int
    at: datetime
    actor_id: int | None
    actor_email: str
    action: str = Field(examples=["provider.update"])
    target_type: str = Field(examples=["provider"])
    target_id: int | None
    target_name: str
    old_values: dict[str, Any]
    new_values: dict[str, Any]

    @classmethod
    def of(cls, view: AuditView) -> AuditEntryOut:
        """The API's view of an entry."""
        return cls(**{**view.__dict__, "at": as_utc(view.at)})


class AuditPageOut(BaseModel):
    """A page of entries, newest first."""

    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int
