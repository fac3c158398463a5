"""Reading the admin page's forms: text fields into the values the services take."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from llm_chat.errors import ValidationError
from llm_chat.models import Role
from llm_chat.services.catalog import ModelInfo, ModelSettings
from llm_chat.services.catalog_fields import parse_headers, price_text
from llm_chat.services.provider_check import ProviderValues

# The checkbox of each role in the model form is named "role_<role>".
ROLE_FIELD = "role_"


@dataclasses.dataclass
class ModelForm:
    """A model's fields as the model form shows them (text, as typed)."""

    provider_id: str = ""
    display_name: str = ""
    model_name: str = ""
    system_prompt: str = ""
    temperature: str = ""
    top_p: str = ""
    max_tokens: str = ""
    context_window: str = ""
    price_input: str = ""
    price_output: str = ""
    roles: list[str] = dataclasses.field(default_factory=list)
    is_reasoning: bool = False
    enabled: bool = True

    @classmethod
    def of(cls, info: ModelInfo) -> ModelForm:
        """The form filled in with a model's settings."""

        def text(value: object) -> str:
            return "" if value is None else str(value)

        return cls(
            provider_id=str(info.provider_id),
            display_name=info.display_name,
            model_name=info.model_name,
            system_prompt=info.system_prompt,
            temperature=text(info.temperature),
            top_p=text(info.top_p),
            max_tokens=text(info.max_tokens),
            context_window=text(info.context_window),
            price_input=price_text(info.price_input) or "",
            price_output=price_text(info.price_output) or "",
            roles=list(info.allowed_roles),
            is_reasoning=info.is_reasoning,
            enabled=info.enabled,
        )


def optional_float(raw: str, code: str) -> float | None:
    """A number typed in a field ("" for none); ValidationError ``code`` otherwise."""
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValidationError(code) from exc
    if not math.isfinite(value):
        raise ValidationError(code)
    return value


def optional_int(raw: str, code: str) -> int | None:
    """A whole number typed in a field ("" for none; thousands separators allowed)."""
    raw = raw.strip().replace(",", "").replace("_", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError(code)
    return int(raw)


def optional_price(raw: str) -> Decimal | None:
    """A price typed in a field ("" for none)."""
    raw = raw.strip().replace(",", "")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise ValidationError("admin.invalid_price") from exc


def checked(form: Mapping[str, object], name: str) -> bool:
    """Whether a checkbox named ``name`` was ticked (a form sends "on", or a bool)."""
    value = form.get(name)
    return value is True or value == "on"


def model_settings(
    form: Mapping[str, object], provider_id: int, *, enabled: bool = True
) -> ModelSettings:
    """The model form as settings for the services (``enabled`` is switched in the list).

    Raises:
        ValidationError: a number or price that is not one.
    """

    def text(name: str) -> str:
        return str(form.get(name, "") or "")

    return ModelSettings(
        provider_id=provider_id,
        display_name=text("display_name"),
        model_name=text("model_name"),
        system_prompt=text("system_prompt"),
        temperature=optional_float(text("temperature"), "admin.invalid_temperature"),
        top_p=optional_float(text("top_p"), "admin.invalid_top_p"),
        max_tokens=optional_int(text("max_tokens"), "admin.invalid_max_tokens"),
        context_window=optional_int(text("context_window"), "admin.invalid_context_window"),
        price_input=optional_price(text("price_input")),
        price_output=optional_price(text("price_output")),
        allowed_roles=tuple(r.value for r in Role if checked(form, ROLE_FIELD + r.value)),
        is_reasoning=checked(form, "is_reasoning"),
        enabled=enabled,
    )


def provider_id_of(form: Mapping[str, object]) -> int:
    """The provider picked in the model form; ValidationError if none."""
    raw = str(form.get("provider_id", "") or "")
    if not raw.isdigit():
        raise ValidationError("admin.pick_provider")
    return int(raw)


def provider_values(
    form: Mapping[str, object], *, edited: bool, default_url: str = ""
) -> ProviderValues:
    """The connection fields of the add-provider form, or of the edit dialog (``edited``).

    In the dialog an empty key or headers field keeps what is stored (None), and a ticked
    "remove" box clears it; in the add form an empty base URL is ``default_url`` (the kind's).

    Raises:
        ValidationError: bad headers or timeout.
    """

    def text(name: str) -> str:
        return str(form.get(name, "") or "")

    key, headers = text("api_key"), text("extra_headers")
    return ProviderValues(
        base_url=text("base_url") or ("" if edited else default_url),
        api_key=("" if checked(form, "remove_key") else (key or None)) if edited else key,
        extra_headers=(
            {}
            if edited and checked(form, "remove_headers")
            else (parse_headers(headers) if headers.strip() or not edited else None)
        ),
        timeout_seconds=optional_float(text("timeout"), "admin.invalid_timeout"),
    )
