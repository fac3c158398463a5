"""The admin page: providers and models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import reflex as rx

from llm_chat.errors import AppError, ForbiddenError, ValidationError
from llm_chat.providers.presets import PRESETS
from llm_chat.services import catalog
from llm_chat.services.catalog import ModelInfo, ProviderInfo
from llm_chat.services.users import UserInfo
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE, AuthState

# A change an admin makes, given the admin (the services check the role again).
Change = Callable[[UserInfo], Awaitable[object]]


def _optional_float(raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ValidationError("admin.invalid_temperature") from exc


def _optional_int(raw: str, code: str) -> int | None:
    raw = raw.strip().replace(",", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError(code)
    return int(raw)


class AdminState(AuthState):
    """Lists and forms of the admin page; the services check the admin role on every call."""

    # Every provider and every model.
    providers: list[ProviderInfo] = []  # noqa: RUF012
    models: list[ModelInfo] = []  # noqa: RUF012
    # The kind picked in the add-provider form; fills in its usual base URL.
    new_provider_kind: str = "openai"
    # Translation key of the last error or confirmation.
    error_key: str = ""
    notice_key: str = ""

    @rx.var
    def suggested_base_url(self) -> str:
        """The usual base URL of the picked kind."""
        preset = PRESETS.get(self.new_provider_kind)
        return preset.base_url if preset else ""

    async def _reload(self, actor: UserInfo) -> None:
        self.providers = await catalog.list_providers(actor=actor)
        self.models = await catalog.list_models(actor=actor)

    @rx.event
    async def load_page(self):
        """``on_load``: only admins stay on this page."""
        user = await self.verified_user()
        if user is None:
            return rx.redirect(LOGIN_ROUTE)
        if not user.is_admin:
            return rx.redirect(HOME_ROUTE)
        self.error_key = self.notice_key = ""
        await self._reload(user)
        return None

    @rx.event
    def pick_kind(self, kind: str) -> None:
        """Remember the kind picked in the add-provider form."""
        if kind in PRESETS:
            self.new_provider_kind = kind

    async def _apply(self, change: Change) -> None:
        """Make ``change`` as the signed-in user, then show the lists as they are now."""
        actor = await self.verified_user()
        try:
            if actor is None:
                raise ForbiddenError("admin.only_admins")
            await change(actor)
            await self._reload(actor)
        except AppError as exc:
            self.error_key = exc.code
            self.notice_key = ""
            return
        self.error_key = ""
        self.notice_key = "admin.saved"

    @rx.event
    async def add_provider(self, form: dict[str, str]) -> None:
        """Create a provider from the form."""
        name, kind = str(form.get("name", "")), self.new_provider_kind
        base_url = str(form.get("base_url", "")) or self.suggested_base_url
        api_key = str(form.get("api_key", ""))
        await self._apply(
            lambda actor: catalog.create_provider(
                actor=actor, name=name, kind=kind, base_url=base_url, api_key=api_key
            )
        )

    @rx.event
    async def add_model(self, form: dict[str, str]) -> None:
        """Create a model from the form."""
        provider_id = str(form.get("provider_id", ""))
        if not provider_id.isdigit():
            self.error_key = "admin.pick_provider"
            return
        try:
            temperature = _optional_float(str(form.get("temperature", "")))
            max_tokens = _optional_int(str(form.get("max_tokens", "")), "admin.invalid_max_tokens")
            context_window = _optional_int(
                str(form.get("context_window", "")), "admin.invalid_context_window"
            )
        except ValidationError as exc:
            self.error_key = exc.code
            return
        await self._apply(
            lambda actor: catalog.create_model(
                actor=actor,
                provider_id=int(provider_id),
                display_name=str(form.get("display_name", "")),
                model_name=str(form.get("model_name", "")),
                system_prompt=str(form.get("system_prompt", "")),
                temperature=temperature,
                max_tokens=max_tokens,
                context_window=context_window,
            )
        )

    @rx.event
    async def set_model_enabled(self, model_id: int, enabled: bool) -> None:
        """Enable or disable a model."""
        await self._apply(
            lambda actor: catalog.set_model_enabled(actor=actor, model_id=model_id, enabled=enabled)
        )

    @rx.event
    async def set_provider_enabled(self, provider_id: int, enabled: bool) -> None:
        """Enable or disable a provider and so all its models."""
        await self._apply(
            lambda actor: catalog.update_provider(
                actor=actor, provider_id=provider_id, enabled=enabled
            )
        )

    @rx.event
    async def make_default(self, model_id: int) -> None:
        """Make a model the default for new conversations."""
        await self._apply(lambda actor: catalog.set_default_model(actor=actor, model_id=model_id))
