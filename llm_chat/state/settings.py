"""The settings page: the user's personal API keys."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import reflex as rx

from llm_chat.errors import AppError
from llm_chat.services import api_keys
from llm_chat.state.auth import LOGIN_ROUTE, AuthState

SETTINGS_ROUTE = "/settings"
# The field that shows a new key once. Its value is set by an event, so the key never
# enters the state (which is pickled to disk or Redis).
NEW_KEY_FIELD_ID = "new-api-key"


@dataclasses.dataclass
class ApiKeyRow:
    """A key as listed (never the key itself); times as ``YYYY-MM-DD HH:MM`` UTC."""

    id: int
    name: str
    prefix: str
    created: str
    last_used: str


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


class SettingsState(AuthState):
    """Create, list and revoke API keys; every handler re-checks the session."""

    # The user's keys that still work, newest first.
    api_keys: list[ApiKeyRow] = []  # noqa: RUF012
    # True while the just-created key is on screen (the key itself is never a var).
    show_new_key: bool = False
    # The key the revoke confirmation is for (0: no dialog open), and its name.
    revoke_id: int = 0
    revoke_name: str = ""
    # Translation key of the last error or confirmation.
    error_key: str = ""
    notice_key: str = ""

    async def _reload(self) -> None:
        rows = await api_keys.list_api_keys(user_id=self._user_id)
        self.api_keys = [
            ApiKeyRow(
                id=k.id,
                name=k.name,
                prefix=k.prefix,
                created=_when(k.created_at),
                last_used=_when(k.last_used_at),
            )
            for k in rows
        ]

    @rx.event
    async def load_page(self):
        """``on_load``: signed-in users only."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        self.error_key = self.notice_key = ""
        self.show_new_key = False
        self.revoke_id = 0
        await self._reload()
        return None

    @rx.event
    async def create_key(self, form: dict[str, str]):
        """Make a key named as in the form and show it once."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        try:
            created = await api_keys.create_api_key(
                user_id=self._user_id, name=str(form.get("name", ""))
            )
        except AppError as exc:
            self.error_key = exc.code
            self.notice_key = ""
            return None
        self.error_key = self.notice_key = ""
        self.show_new_key = True
        await self._reload()
        return rx.set_value(NEW_KEY_FIELD_ID, created.secret)

    @rx.event
    def dismiss_new_key(self):
        """Hide the new key and wipe it from the page."""
        self.show_new_key = False
        return rx.set_value(NEW_KEY_FIELD_ID, "")

    @rx.event
    def open_revoke(self, key_id: int, name: str) -> None:
        """Ask before revoking a key."""
        self.revoke_id = key_id
        self.revoke_name = name

    @rx.event
    def close_revoke(self, _open: bool = False) -> None:
        """Close the revoke confirmation."""
        self.revoke_id = 0

    @rx.event
    async def confirm_revoke(self, key_id: int):
        """Revoke ``key_id`` (the key the confirmation was opened for)."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        self.revoke_id = 0
        try:
            await api_keys.revoke_api_key(user_id=self._user_id, key_id=key_id)
        except AppError as exc:
            self.error_key = exc.code
            self.notice_key = ""
        else:
            self.error_key = ""
            self.notice_key = "settings.revoked"
        await self._reload()
        return None
