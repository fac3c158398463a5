"""The admin page: providers and models (add, edit, delete, test, import)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import reflex as rx

from llm_chat.errors import AppError, ForbiddenError, ValidationError
from llm_chat.providers import ProviderError
from llm_chat.providers.presets import PRESETS
from llm_chat.services import catalog, prices, provider_check
from llm_chat.services.catalog import ModelInfo, ProviderInfo
from llm_chat.services.prices import DEFAULT_CURRENCY
from llm_chat.services.users import UserInfo
from llm_chat.state.admin_forms import (
    ModelForm,
    model_settings,
    provider_id_of,
    provider_values,
)
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE, AuthState
from llm_chat.state.provider_form import EDIT, NEW, FormCheck, Listed, check_form

# A change an admin makes, given the admin (the services check the role again).
Change = Callable[[UserInfo], Awaitable[object]]
# What the provider edit dialog holds while it is closed.
NO_PROVIDER = ProviderInfo(id=0, name="", kind="", base_url="", has_api_key=False, enabled=True)


class AdminState(AuthState):
    """Lists, forms and dialogs of the admin page; the services check the admin role on
    every call, so each handler is safe to call by anyone."""

    # Every provider and every model.
    providers: list[ProviderInfo] = []  # noqa: RUF012
    models: list[ModelInfo] = []  # noqa: RUF012
    # The kind picked in the add-provider form; fills in its usual base URL.
    new_provider_kind: str = "openai"
    # Translation key of the last error or confirmation.
    error_key: str = ""
    notice_key: str = ""
    # The provider being edited (0: no dialog) and what the dialog starts with; its key
    # and header values are never sent, only whether it has them and the header names.
    edit_provider_id: int = 0
    edit_provider: ProviderInfo = NO_PROVIDER
    # The model being edited (0: no dialog) and the form's starting values.
    edit_model_id: int = 0
    edit_model: ModelForm = ModelForm()
    # The provider or model a delete confirmation is for (0: none), and what it says.
    delete_provider_id: int = 0
    delete_provider_name: str = ""
    delete_provider_models: int = 0
    delete_model_id: int = 0
    delete_model_name: str = ""
    # The connection test shown (0: none): the provider, whether it runs, what it found.
    check_provider_id: int = 0
    check_provider_name: str = ""
    check_running: bool = False
    check_models_code: str = ""
    check_models_ms: int = 0
    check_completion_model: str = ""
    check_completion_code: str = ""
    check_completion_ms: int = 0
    # Listed model ids the provider has no model for yet, and those ticked for import.
    importable: list[str] = []  # noqa: RUF012
    import_picked: list[str] = []  # noqa: RUF012
    # The ISO 4217 code of the models' prices (the price fields' labels name it).
    currency: str = DEFAULT_CURRENCY
    # The last check of the add form's or the edit dialog's values (None: none shown); vars
    # of this state, not of a state of its own: each state adds 0.2 KB to every tab's first
    # connection.
    form_check: FormCheck | None = None
    # Whether the next submit of a provider form is a Test connection, not a save.
    _check_next: bool = False
    # What the add form's last check listed: offered for import once that provider is added.
    _listed: Listed = Listed()

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
        user = await self._verified_user()
        if user is None:
            return rx.redirect(LOGIN_ROUTE)
        if not user.is_admin:
            return rx.redirect(HOME_ROUTE)
        self.error_key = self.notice_key = ""
        self._close_dialogs()
        await self._reload(user)
        self.currency = await prices.price_currency()
        return None

    def _close_dialogs(self) -> None:
        self.edit_provider_id = self.edit_model_id = 0
        self.delete_provider_id = self.delete_model_id = 0
        self.check_provider_id = 0
        self.edit_provider = NO_PROVIDER

    @rx.event
    def pick_kind(self, kind: str) -> None:
        """Remember the kind picked in the add-provider form."""
        if kind in PRESETS:
            self.new_provider_kind = kind

    async def _apply(self, change: Change, notice: str = "admin.saved") -> bool:
        """Make ``change`` as the signed-in user, then show the lists as they are now."""
        actor = await self._verified_user()
        try:
            if actor is None:
                raise ForbiddenError("admin.only_admins")
            await change(actor)
            await self._reload(actor)
        except AppError as exc:
            self.error_key = exc.code
            self.notice_key = ""
            return False
        self.error_key = ""
        self.notice_key = notice
        return True

    def _refuse(self, exc: AppError) -> None:
        self.error_key = exc.code
        self.notice_key = ""

    # ----------------------------------------------------------------- providers

    @rx.event
    async def add_provider(self, form: dict[str, str]) -> None:
        """Create a provider from the form."""
        await self._add_provider(form)

    async def _add_provider(self, form: Mapping[str, object]) -> ProviderInfo | None:
        """Create a provider from the add form; the new provider, or None (error shown)."""
        name, kind = str(form.get("name", "")), self.new_provider_kind
        try:
            values = provider_values(form, edited=False, default_url=self.suggested_base_url)
        except ValidationError as exc:
            self._refuse(exc)
            return None
        added: list[ProviderInfo] = []

        async def change(actor: UserInfo) -> None:
            added.append(
                await catalog.create_provider(
                    actor=actor,
                    name=name,
                    kind=kind,
                    base_url=values.base_url,
                    api_key=values.api_key or "",
                    extra_headers=values.extra_headers,
                    timeout_seconds=values.timeout_seconds,
                )
            )

        await self._apply(change)
        return added[0] if added else None

    @rx.event
    async def set_provider_enabled(self, provider_id: int, enabled: bool) -> None:
        """Enable or disable a provider and so all its models."""
        await self._apply(
            lambda actor: catalog.update_provider(
                actor=actor, provider_id=provider_id, enabled=enabled
            )
        )

    @rx.event
    def open_edit_provider(self, provider_id: int) -> None:
        """Open the edit dialog of a provider."""
        found = next((p for p in self.providers if p.id == provider_id), None)
        if found is not None:
            self.edit_provider, self.edit_provider_id = found, provider_id
            self.error_key = ""
            self.form_check = None

    @rx.event
    def close_edit_provider(self, is_open: bool = False) -> None:
        """Close the edit dialog (``on_open_change``), forgetting its check."""
        if not is_open:
            self.edit_provider_id, self.edit_provider = 0, NO_PROVIDER
            self.error_key = ""
            self.form_check = None

    @rx.event
    async def save_provider(self, form: dict[str, str]) -> None:
        """Save the edit dialog: an empty key or headers field keeps what is stored."""
        await self._save_provider(form)

    async def _save_provider(self, form: Mapping[str, object]) -> None:
        provider_id = self.edit_provider_id
        try:
            values = provider_values(form, edited=True)
        except ValidationError as exc:
            self._refuse(exc)
            return
        saved = await self._apply(
            lambda actor: catalog.update_provider(
                actor=actor,
                provider_id=provider_id,
                name=str(form.get("name", "")),
                kind=str(form.get("kind", "")) or None,
                base_url=values.base_url,
                api_key=values.api_key,
                extra_headers=values.extra_headers,
                timeout_seconds=values.timeout_seconds,
            )
        )
        if saved:
            self.close_edit_provider(False)

    @rx.event
    def ask_delete_provider(self, provider_id: int) -> None:
        """Open the delete confirmation of a provider."""
        found = next((p for p in self.providers if p.id == provider_id), None)
        if found is not None:
            self.delete_provider_id, self.delete_provider_name = found.id, found.name
            self.delete_provider_models = found.model_count

    @rx.event
    def close_delete_provider(self, is_open: bool = False) -> None:
        """Close the delete confirmation."""
        if not is_open:
            self.delete_provider_id = 0

    @rx.event
    async def confirm_delete_provider(self) -> None:
        """Delete the provider the confirmation names, with its models (the dialog says so)."""
        provider_id, self.delete_provider_id = self.delete_provider_id, 0
        await self._apply(
            lambda actor: catalog.delete_provider(
                actor=actor, provider_id=provider_id, with_models=True
            ),
            notice="admin.deleted",
        )

    # ----------------------------------------------------------------- models

    @rx.event
    async def add_model(self, form: dict[str, str]) -> None:
        """Create a model from the form."""
        try:
            settings = model_settings(form, provider_id_of(form))
        except ValidationError as exc:
            self._refuse(exc)
            return
        await self._apply(
            lambda actor: catalog.create_model(
                actor=actor,
                provider_id=settings.provider_id,
                display_name=settings.display_name,
                model_name=settings.model_name,
                system_prompt=settings.system_prompt,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                context_window=settings.context_window,
                top_p=settings.top_p,
                price_input=settings.price_input,
                price_output=settings.price_output,
                allowed_roles=settings.allowed_roles,
                is_reasoning=settings.is_reasoning,
            )
        )

    @rx.event
    def open_edit_model(self, model_id: int) -> None:
        """Open the edit dialog of a model."""
        found = next((m for m in self.models if m.id == model_id), None)
        if found is not None:
            self.edit_model, self.edit_model_id = ModelForm.of(found), model_id
            self.error_key = ""

    @rx.event
    def close_edit_model(self, is_open: bool = False) -> None:
        """Close the edit dialog (``on_open_change``)."""
        if not is_open:
            self.edit_model_id = 0
            self.error_key = ""

    @rx.event
    async def save_model(self, form: dict[str, str]) -> None:
        """Save the edit dialog."""
        model_id = self.edit_model_id
        current = next((m for m in self.models if m.id == model_id), None)
        try:
            settings = model_settings(
                form, provider_id_of(form), enabled=current.enabled if current else True
            )
        except ValidationError as exc:
            self._refuse(exc)
            return
        saved = await self._apply(
            lambda actor: catalog.update_model(actor=actor, model_id=model_id, settings=settings)
        )
        if saved:
            self.edit_model_id = 0

    @rx.event
    async def set_model_enabled(self, model_id: int, enabled: bool) -> None:
        """Enable or disable a model."""
        await self._apply(
            lambda actor: catalog.set_model_enabled(actor=actor, model_id=model_id, enabled=enabled)
        )

    @rx.event
    async def make_default(self, model_id: int) -> None:
        """Make a model the default for new conversations."""
        await self._apply(lambda actor: catalog.set_default_model(actor=actor, model_id=model_id))

    @rx.event
    def ask_delete_model(self, model_id: int) -> None:
        """Open the delete confirmation of a model."""
        found = next((m for m in self.models if m.id == model_id), None)
        if found is not None:
            self.delete_model_id, self.delete_model_name = found.id, found.display_name

    @rx.event
    def close_delete_model(self, is_open: bool = False) -> None:
        """Close the delete confirmation."""
        if not is_open:
            self.delete_model_id = 0

    @rx.event
    async def confirm_delete_model(self) -> None:
        """Delete the model the confirmation names."""
        model_id, self.delete_model_id = self.delete_model_id, 0
        await self._apply(
            lambda actor: catalog.delete_model(actor=actor, model_id=model_id),
            notice="admin.deleted",
        )

    # ----------------------------------------------------------------- test and import

    @rx.event(background=True)
    async def test_connection(self, provider_id: int):
        """Check a provider (up to two short requests), outside the tab's state lock."""
        async with self:
            if self.check_running:
                return
            actor = await self._verified_user()
            found = next((p for p in self.providers if p.id == provider_id), None)
            self.check_provider_id = provider_id
            self.check_provider_name = found.name if found else ""
            self.check_running = True
            self.check_models_code = self.check_completion_code = ""
            self.check_completion_model = ""
            self.importable, self.import_picked = [], []
            self.error_key = ""
        try:
            if actor is None:
                raise ForbiddenError("admin.only_admins")
            report = await provider_check.check_connection(actor=actor, provider_id=provider_id)
        except (AppError, ProviderError) as exc:
            async with self:
                self.check_running = False
                self.check_provider_id = 0
                self.error_key, self.notice_key = exc.code, ""
            return
        async with self:
            self.check_running = False
            self.check_models_code, self.check_models_ms = report.models_code, report.models_ms
            self.check_completion_model = report.completion_model
            self.check_completion_code = report.completion_code
            self.check_completion_ms = report.completion_ms
            have = {m.model_name for m in self.models if m.provider_id == provider_id}
            self.importable = [m for m in report.models if m not in have]

    @rx.event
    def close_check(self, is_open: bool = False) -> None:
        """Close the connection test (``on_open_change``)."""
        if not is_open and not self.check_running:
            self.check_provider_id = 0
            self.importable, self.import_picked = [], []
            self.error_key = ""

    @rx.event
    def toggle_import(self, model_name: str, on: bool) -> None:
        """Tick or untick a listed model for import."""
        picked = [m for m in self.import_picked if m != model_name]
        if on and model_name in self.importable:
            picked.append(model_name)
        self.import_picked = picked

    @rx.event
    def pick_all_imports(self, on: bool) -> None:
        """Tick or untick every listed model."""
        self.import_picked = list(self.importable) if on else []

    @rx.event
    async def import_picked_models(self) -> None:
        """Add the ticked models to the tested provider."""
        provider_id, names = self.check_provider_id, list(self.import_picked)
        if not names:
            self.error_key = "admin.nothing_to_import"
            return
        imported = await self._apply(
            lambda actor: catalog.import_models(
                actor=actor, provider_id=provider_id, model_names=names
            ),
            notice="admin.imported",
        )
        if imported:
            self.check_provider_id = 0
            self.importable, self.import_picked = [], []

    # ----------------------------------------------------------------- a form's values checked

    @rx.event
    def check_next(self) -> None:
        """Test connection was clicked: the submit that follows checks the form's values."""
        self._check_next = True

    @rx.event
    def save_next(self) -> None:
        """Add or Save was clicked (or Enter pressed): the submit that follows saves."""
        self._check_next = False

    @rx.event(background=True)
    async def submit_new_provider(self, form: dict[str, str]):
        """The add-provider form: check its values, or add the provider and offer the models
        its check listed for import."""
        async with self:
            check, self._check_next = self._check_next, False
            if not check:
                added = await self._add_provider(form)
                if added is not None:
                    self._offer_import(added)
                return
        await self._check_form(NEW, form)

    @rx.event(background=True)
    async def submit_edit_provider(self, form: dict[str, str]):
        """The edit dialog: check its values as edited, or save them."""
        async with self:
            check, self._check_next = self._check_next, False
            if not check:
                self.form_check = None  # what the save says replaces it
                await self._save_provider(form)
                return
        await self._check_form(EDIT, form)

    async def _check_form(self, which: str, form: dict[str, str]) -> None:
        """Check the values of form ``which`` outside the tab's state lock."""
        async with self:
            if self.form_check is not None and self.form_check.running:
                return
            actor = await self._verified_user()
            provider_id = self.edit_provider_id if which == EDIT else None
            default_url = self.suggested_base_url
            self.form_check, self.error_key = FormCheck(form=which, running=True), ""
        shown, listed = await check_form(
            actor, which, form, provider_id=provider_id, default_url=default_url
        )
        async with self:
            # Not into another provider's dialog, if this one was closed meanwhile.
            gone = which == EDIT and self.edit_provider_id != provider_id
            self.form_check = None if gone else shown
            if which == NEW:
                self._listed = listed

    def _offer_import(self, added: ProviderInfo) -> None:
        """Open Import models for a provider just added at the URL its check listed models
        at: that check's results and models (no new request)."""
        listed, shown = self._listed, self.form_check
        self._listed, self.form_check = Listed(), None
        if not listed.models or shown is None or listed.base_url != added.base_url:
            return
        self.check_provider_id, self.check_provider_name = added.id, added.name
        self.check_models_code, self.check_models_ms = shown.models_code, shown.models_ms
        self.check_completion_model = shown.completion_model
        self.check_completion_code = shown.completion_code
        self.check_completion_ms = shown.completion_ms
        self.importable, self.import_picked = list(listed.models), []
