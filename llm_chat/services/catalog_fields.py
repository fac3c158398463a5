"""What an admin may set on providers and models: the checks, and the views of both.

The views carry no secret: a provider says whether it has a key and which extra headers it
sends, never their values. :func:`provider_snapshot` and :func:`model_snapshot` are what the
audit log records of each.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from urllib.parse import urlparse

from llm_chat.errors import ValidationError
from llm_chat.models import ChatModel, Provider, ProviderKind, Role
from llm_chat.providers.presets import PRESETS
from llm_chat.security import SecretBox

# The smallest context window an admin may set: a system prompt and a short exchange.
MIN_CONTEXT_WINDOW = 512
MAX_HEADERS = 20
MAX_HEADER_VALUE = 2000
# Headers the HTTP client sets itself; a provider's extra headers may not replace them.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "accept"}
)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
MAX_PRICE = Decimal("999999.999999")
# What the audit log shows in place of a secret, and of a secret replaced by another.
MASK = "***"
REPLACED = "*** (new)"


class Keep(Enum):
    """A field an update leaves as it is (where ``None`` is a value of its own)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class ProviderInfo:
    """A provider as the admin page shows it: whether a key is set, never the key."""

    id: int
    name: str
    kind: str
    base_url: str
    has_api_key: bool
    enabled: bool
    # The kind's label ("OpenAI"), and whether the base URL is the kind's usual one.
    kind_label: str = ""
    base_url_from_kind: bool = False
    # The names of the extra headers it sends (their values are never shown).
    header_names: tuple[str, ...] = ()
    timeout_seconds: float | None = None
    model_count: int = 0


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
    top_p: float | None = None
    # Per million tokens, in the provider's currency (None: unknown).
    price_input: Decimal | None = None
    price_output: Decimal | None = None
    # The roles that may use it; empty: every role.
    allowed_roles: tuple[str, ...] = ()
    is_reasoning: bool = False


@dataclass(frozen=True)
class ModelSettings:
    """Everything an admin sets on a model (its default flag is set on its own)."""

    provider_id: int
    display_name: str
    model_name: str
    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    context_window: int | None = None
    price_input: Decimal | None = None
    price_output: Decimal | None = None
    allowed_roles: tuple[str, ...] = ()
    is_reasoning: bool = False
    enabled: bool = True

    @classmethod
    def of(cls, info: ModelInfo) -> ModelSettings:
        """The settings a model has now."""
        return cls(
            provider_id=info.provider_id,
            display_name=info.display_name,
            model_name=info.model_name,
            system_prompt=info.system_prompt,
            temperature=info.temperature,
            top_p=info.top_p,
            max_tokens=info.max_tokens,
            context_window=info.context_window,
            price_input=info.price_input,
            price_output=info.price_output,
            allowed_roles=info.allowed_roles,
            is_reasoning=info.is_reasoning,
            enabled=info.enabled,
        )


def check_base_url(base_url: str) -> str:
    """An http(s) URL without a trailing slash.

    Raises:
        ValidationError: ``admin.invalid_base_url``.
    """
    base_url = base_url.strip().rstrip("/")
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(base_url) > 500:
        raise ValidationError("admin.invalid_base_url")
    return base_url


def clean_name(name: str, max_length: int, code: str) -> str:
    """``name`` with its blanks collapsed; raises ValidationError(``code``) if empty or long."""
    name = " ".join(name.split())
    if not name or len(name) > max_length:
        raise ValidationError(code)
    return name


def check_kind(kind: str) -> str:
    """A known provider kind, or ValidationError ``admin.invalid_provider_kind``."""
    if kind not in {k.value for k in ProviderKind}:
        raise ValidationError("admin.invalid_provider_kind")
    return kind


def check_timeout(timeout: float | None) -> float | None:
    """Seconds from 1 to 600, or None (the app's setting)."""
    if timeout is None:
        return None
    if not math.isfinite(timeout) or not 1 <= timeout <= 600:
        raise ValidationError("admin.invalid_timeout")
    return float(timeout)


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Extra request headers an admin may set: valid names, one-line values, none of the
    client's own.

    Raises:
        ValidationError: ``admin.invalid_headers``.
    """
    if len(headers) > MAX_HEADERS:
        raise ValidationError("admin.invalid_headers")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        name, value = name.strip(), value.strip()
        if (
            not _HEADER_NAME.match(name)
            or name.lower() in RESERVED_HEADERS
            or name.lower() in {n.lower() for n in checked}
            or not value
            or len(value) > MAX_HEADER_VALUE
            or any(c in value for c in "\r\n\0")
        ):
            raise ValidationError("admin.invalid_headers")
        checked[name] = value
    return checked


def parse_headers(text: str) -> dict[str, str]:
    """Headers written one per line as ``Name: value`` (blank lines are skipped).

    Raises:
        ValidationError: ``admin.invalid_headers``.
    """
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or name.strip() in headers:
            raise ValidationError("admin.invalid_headers")
        headers[name.strip()] = value.strip()
    return check_headers(headers)


def encrypt_headers(headers: Mapping[str, str], box: SecretBox) -> str:
    """The headers as stored: encrypted JSON ("" for none)."""
    return box.encrypt(json.dumps(dict(headers))) if headers else ""


def decrypt_headers(stored: str, box: SecretBox) -> dict[str, str]:
    """The headers :func:`encrypt_headers` stored; raises ``ValueError`` if unreadable."""
    if not stored:
        return {}
    value = json.loads(box.decrypt(stored))
    if not isinstance(value, dict):
        raise ValueError("stored headers are not an object")
    return {str(k): str(v) for k, v in value.items()}


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Known roles, sorted, without repeats; ValidationError ``admin.invalid_roles``."""
    known = {r.value for r in Role}
    picked = {r.strip() for r in roles if r.strip()}
    if not picked <= known:
        raise ValidationError("admin.invalid_roles")
    return tuple(sorted(picked))


def roles_of(stored: str) -> tuple[str, ...]:
    """The roles a model's ``allowed_roles`` column names (empty: every role)."""
    return tuple(r for r in stored.split(",") if r)


def may_use(allowed_roles: str, role: str | None) -> bool:
    """Whether ``role`` may use a model whose ``allowed_roles`` column is given.

    ``role`` None (a caller that did not say) may use only the models open to every role.
    """
    roles = roles_of(allowed_roles)
    return not roles or (role is not None and role in roles)


def check_price(price: Decimal | None) -> Decimal | None:
    """A price from 0 to 999,999.999999 (six decimals at most), or None."""
    if price is None:
        return None
    try:
        if not price.is_finite() or not 0 <= price <= MAX_PRICE:
            raise ValidationError("admin.invalid_price")
        if price != price.quantize(Decimal("0.000001")):
            raise ValidationError("admin.invalid_price")
    except InvalidOperation as exc:
        raise ValidationError("admin.invalid_price") from exc
    return price


def check_model(settings: ModelSettings) -> ModelSettings:
    """``settings`` cleaned up, or a ValidationError saying which field is wrong."""
    display_name = clean_name(settings.display_name, 100, "admin.invalid_model_name")
    model_name = settings.model_name.strip()
    if not model_name or len(model_name) > 200:
        raise ValidationError("admin.invalid_model_id")
    temperature, top_p = settings.temperature, settings.top_p
    if temperature is not None and not (math.isfinite(temperature) and 0 <= temperature <= 2):
        raise ValidationError("admin.invalid_temperature")
    if top_p is not None and not (math.isfinite(top_p) and 0 <= top_p <= 1):
        raise ValidationError("admin.invalid_top_p")
    if settings.max_tokens is not None and not 1 <= settings.max_tokens <= 1_000_000:
        raise ValidationError("admin.invalid_max_tokens")
    window = settings.context_window
    if window is not None and not MIN_CONTEXT_WINDOW <= window <= 10_000_000:
        raise ValidationError("admin.invalid_context_window")
    return ModelSettings(
        provider_id=settings.provider_id,
        display_name=display_name,
        model_name=model_name,
        system_prompt=settings.system_prompt.strip(),
        temperature=temperature,
        top_p=top_p,
        max_tokens=settings.max_tokens,
        context_window=window,
        price_input=check_price(settings.price_input),
        price_output=check_price(settings.price_output),
        allowed_roles=check_roles(settings.allowed_roles),
        is_reasoning=settings.is_reasoning,
        enabled=settings.enabled,
    )


def price_text(price: Decimal | None) -> str | None:
    """A price as plain text without trailing zeros ("0.15"), or None."""
    if price is None:
        return None
    text = f"{price:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def provider_info(
    p: Provider, *, header_names: Iterable[str] = (), models: int = 0
) -> ProviderInfo:
    """The admin page's view of a provider row."""
    preset = PRESETS.get(p.kind)
    return ProviderInfo(
        id=p.id or 0,
        name=p.name,
        kind=p.kind,
        base_url=p.base_url,
        has_api_key=bool(p.api_key_encrypted),
        enabled=p.enabled,
        kind_label=preset.label if preset else p.kind,
        base_url_from_kind=bool(preset and preset.base_url and preset.base_url == p.base_url),
        header_names=tuple(header_names),
        timeout_seconds=p.timeout_seconds,
        model_count=models,
    )


def model_info(m: ChatModel, p: Provider) -> ModelInfo:
    """The admin page's view of a model row and its provider."""
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
        top_p=m.top_p,
        price_input=m.price_input,
        price_output=m.price_output,
        allowed_roles=roles_of(m.allowed_roles),
        is_reasoning=m.is_reasoning,
    )


def provider_snapshot(info: ProviderInfo) -> dict[str, Any]:
    """What the audit log records of a provider: the key and header values masked."""
    return {
        "name": info.name,
        "kind": info.kind,
        "base_url": info.base_url,
        "api_key": MASK if info.has_api_key else "",
        "extra_headers": {name: MASK for name in info.header_names},
        "timeout_seconds": info.timeout_seconds,
        "enabled": info.enabled,
    }


def model_snapshot(info: ModelInfo) -> dict[str, Any]:
    """What the audit log records of a model."""
    return {
        "provider": info.provider,
        "display_name": info.display_name,
        "model_name": info.model_name,
        "system_prompt": info.system_prompt,
        "temperature": info.temperature,
        "top_p": info.top_p,
        "max_tokens": info.max_tokens,
        "context_window": info.context_window,
        "price_input": price_text(info.price_input),
        "price_output": price_text(info.price_output),
        "allowed_roles": list(info.allowed_roles),
        "is_reasoning": info.is_reasoning,
        "enabled": info.enabled,
        "is_default": info.is_default,
    }
