"""The limits page (admins): each role's defaults, and one user's own limits in a dialog."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import reflex as rx

from llm_chat.errors import AppError, ForbiddenError, ValidationError
from llm_chat.models import Role
from llm_chat.services import limit_admin
from llm_chat.services.limits import RoleLimits, UserLimits
from llm_chat.services.users import UserInfo
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE, AuthState

LIMITS_ROUTE = "/admin/limits"
# The form fields of a limit, in the order the page shows them.
FIELDS = ("messages_per_minute", "tokens_per_day", "concurrent_streams")


@dataclasses.dataclass
class LimitRow:
    """A role's or a user's limits as the form shows them ("" : the default applies)."""

    role: str
    messages_per_minute: str
    tokens_per_day: str
    concurrent_streams: str


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _number(raw: str) -> int | None:
    """A form's number ("" : None).

    Raises:
        ValidationError: ``admin.invalid_limit``.
    """
    raw = raw.strip().replace(",", "").replace("_", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError("admin.invalid_limit")
    return int(raw)


def _limits(form: dict[str, str]) -> dict[str, int | None]:
    return {name: _number(str(form.get(name, ""))) for name in FIELDS}


class LimitsState(AuthState):
    """The limits shown and edited; the services check the admin role on every call."""

    # Each role's defaults.
    roles: list[LimitRow] = []  # noqa: RUF012
    # What a role's empty stream limit means (LLM_CHAT_MAX_STREAMS_PER_USER).
    fallback_streams: int = 0
    # The user whose own limits the dialog edits (0: closed), their email and role, their
    # own limits, and the limits that apply to them.
    user_id: int = 0
    user_email: str = ""
    user_own: LimitRow | None = None
    user_effective: LimitRow | None = None
    # Translation keys of the last error and confirmation.
    error_key: str = ""
    notice_key: str = ""

    async def _run(self, change: Callable[[UserInfo], Awaitable[object]]) -> bool:
        """Do ``change`` as the signed-in admin; whether it worked (else the error shows)."""
        actor = await self.verified_user()
        try:
            if actor is None:
                raise ForbiddenError("admin.only_admins")
            await change(actor)
        except AppError as exc:
            self.error_key, self.notice_key = exc.code, ""
            return False
        self.error_key = ""
        return True

    async def _reload(self, actor: UserInfo) -> None:
        settings = await limit_admin.get_limit_settings(actor=actor)
        self.fallback_streams = settings.fallback_concurrent_streams
        self.roles = [
            LimitRow(
                role.value,
                *(_text(getattr(settings.roles[role], name)) for name in FIELDS),
            )
            for role in Role
        ]

    @rx.event
    async def load_page(self):
        """``on_load``: only admins stay on this page."""
        user = await self.verified_user()
        if user is None:
            return rx.redirect(LOGIN_ROUTE)
        if not user.is_admin:
            return rx.redirect(HOME_ROUTE)
        self.error_key = self.notice_key = ""
        self.user_id = 0
        await self._run(self._reload)
        return None

    @rx.event
    async def save_role(self, form: dict[str, str]) -> None:
        """Save a role's defaults (an empty field: no limit; streams: the server's)."""
        role = str(form.get("role", ""))

        async def change(actor: UserInfo) -> None:
            values = _limits(form)
            limits = RoleLimits(
                messages_per_minute=values["messages_per_minute"] or 0,
                tokens_per_day=values["tokens_per_day"] or 0,
                concurrent_streams=values["concurrent_streams"],
            )
            await limit_admin.set_role_limits(actor=actor, role=role, limits=limits)
            await self._reload(actor)

        if await self._run(change):
            self.notice_key = "admin.saved"

    @rx.event
    async def open_user(self, form: dict[str, str]) -> None:
        """Open the dialog of the user whose id the form names."""
        raw = str(form.get("user_id", "")).strip()

        async def show(actor: UserInfo) -> None:
            if not raw.isdigit() or not 0 < int(raw) < 2**31:
                raise ValidationError("limits.invalid_user_id")
            view = await limit_admin.get_user_limits(actor=actor, user_id=int(raw))
            self._show_user_limits(view)

        self.notice_key = ""
        await self._run(show)

    def _show_user_limits(self, view: limit_admin.UserLimitsView) -> None:
        self.user_id, self.user_email = view.user_id, view.email
        own, effective = view.own, view.effective
        self.user_own = LimitRow(view.role.value, *(_text(getattr(own, name)) for name in FIELDS))
        self.user_effective = LimitRow(
            view.role.value, *(str(getattr(effective, name)) for name in FIELDS)
        )

    @rx.event
    async def save_user(self, form: dict[str, str]) -> None:
        """Save the dialog's user's own limits (an empty field: the role's)."""
        user_id = self.user_id

        async def change(actor: UserInfo) -> None:
            limits = UserLimits(**_limits(form))
            view = await limit_admin.set_user_limits(actor=actor, user_id=user_id, limits=limits)
            self._show_user_limits(view)

        if user_id and await self._run(change):
            self.notice_key = "admin.saved"

    @rx.event
    def close_user(self, _open: bool = False) -> None:
        """Close the user's dialog."""
        self.user_id = 0
