"""The usage and limits pages (admins), and the user's own usage on the settings page.

One state with a var per page part: every state's vars reach each tab on its first
connection, and three states of their own would have added 1 KB to it (the sign-in page's
connection grew from 5.8 to 6.8 KB); this one adds 0.2 KB. The services check the admin
role on every call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import reflex as rx
from reflex.event import EventSpec

from llm_chat.errors import AppError, ForbiddenError, ValidationError
from llm_chat.models import Role
from llm_chat.services import limit_admin, prices, usage_report
from llm_chat.services.limit_admin import UserLimitsView
from llm_chat.services.limits import RoleLimits, limits_for_user
from llm_chat.services.prices import DEFAULT_CURRENCY
from llm_chat.services.usage_report import Grouping, UsageReport, to_csv
from llm_chat.services.users import UserInfo
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE, AuthState
from llm_chat.state.limit_rows import LimitRow, parse_limits, user_limits
from llm_chat.state.usage_items import UsageItem, default_range, parse_day

USAGE_ROUTE = "/admin/usage"
LIMITS_ROUTE = "/admin/limits"


@dataclasses.dataclass
class UsagePage:
    """The usage page: the range (ISO dates, UTC days), the grouping shown and its rows."""

    since: str
    until: str
    # "day", "model" or "user".
    grouping: str
    rows: list[UsageItem]
    total: UsageItem | None = None
    error_key: str = ""
    # The ISO 4217 code of the costs.
    currency: str = DEFAULT_CURRENCY


@dataclasses.dataclass
class MyUsage:
    """The user's last 30 days and their limits (0: none)."""

    by_day: list[UsageItem]
    by_model: list[UsageItem]
    total: UsageItem
    tokens_today: int
    messages_per_minute: int
    tokens_per_day: int
    concurrent_streams: int
    # The ISO 4217 code of the costs.
    currency: str = DEFAULT_CURRENCY


@dataclasses.dataclass
class LimitsPage:
    """Each role's defaults, what an empty stream limit means, and the prices' currency."""

    roles: list[LimitRow]
    fallback_streams: int
    error_key: str = ""
    notice_key: str = ""
    currency: str = DEFAULT_CURRENCY


@dataclasses.dataclass
class UserDialog:
    """A user's own limits ("": the role's) and the limits that apply to them."""

    user_id: int
    email: str
    own: LimitRow
    effective: LimitRow
    error_key: str = ""
    notice_key: str = ""


# A change an admin makes, given the admin (the services check the role again).
Change = Callable[[UserInfo], Awaitable[object]]


class OperateState(AuthState):
    """Usage and limits: what the pages show (None: not opened yet)."""

    # The usage page.
    usage: UsagePage | None = None
    # The user's own usage, at the end of the settings page.
    mine: MyUsage | None = None
    # The limits page, and its dialog of one user's own limits (None: closed).
    limits: LimitsPage | None = None
    dialog: UserDialog | None = None
    # The rows of each grouping of the report shown (backend only).
    _groups: dict[str, list[UsageItem]] = {}  # noqa: RUF012

    async def _admin(self) -> UserInfo:
        """The signed-in user (the services refuse anyone but an admin).

        Raises:
            ForbiddenError: nobody is signed in.
        """
        user = await self._verified_user()
        if user is None:
            raise ForbiddenError("admin.only_admins")
        return user

    async def _guard(self) -> EventSpec | None:
        """Where to send a visitor of an admin page who is not an admin, else None."""
        user = await self._verified_user()
        if user is None:
            return rx.redirect(LOGIN_ROUTE)
        return None if user.is_admin else rx.redirect(HOME_ROUTE)

    # ------------------------------------------------------------------ usage

    def _usage_error(self, code: str) -> None:
        since, until = default_range()
        page = self.usage or UsagePage(since.isoformat(), until.isoformat(), "day", [])
        self.usage = dataclasses.replace(page, error_key=code)

    async def _report(self, since: str, until: str) -> UsageReport | None:
        """The report of the range, or None with the error shown."""
        first, last = parse_day(since), parse_day(until)
        try:
            if first is None or last is None:
                raise ValidationError("usage.invalid_range")
            return await usage_report.usage_report(
                actor=await self._admin(), since=first, until=last
            )
        except AppError as exc:
            self._usage_error(exc.code)
            return None

    async def _show_usage(self, since: str, until: str) -> None:
        report = await self._report(since, until)
        if report is None:
            return
        self._groups = {g.value: [UsageItem.of(r) for r in report.rows(g)] for g in Grouping}
        grouping = self.usage.grouping if self.usage else Grouping.DAY.value
        self.usage = UsagePage(
            since=since,
            until=until,
            grouping=grouping,
            rows=self._groups[grouping],
            total=UsageItem.of(report.total),
            currency=report.currency,
        )

    @rx.event
    async def load_usage_page(self):
        """``on_load`` of the usage page: only admins stay; the last 30 days at first."""
        redirect = await self._guard()
        if redirect is not None:
            return redirect
        if self.usage is None:
            since, until = default_range()
            await self._show_usage(since.isoformat(), until.isoformat())
        else:
            await self._show_usage(self.usage.since, self.usage.until)
        return None

    @rx.event
    async def show_range(self, form: dict[str, str]) -> None:
        """Show the range of the form."""
        await self._show_usage(str(form.get("since", "")), str(form.get("until", "")))

    @rx.event
    def pick_grouping(self, grouping: str | list[str]) -> None:
        """Show the rows per day, model or user."""
        if self.usage is not None and isinstance(grouping, str) and grouping in self._groups:
            self.usage = dataclasses.replace(
                self.usage, grouping=grouping, rows=self._groups[grouping]
            )

    @rx.event
    async def download_csv(self):
        """The grouping shown, over the range shown, as a CSV file."""
        if self.usage is None:
            self._usage_error("admin.only_admins")
            return None
        report = await self._report(self.usage.since, self.usage.until)
        if report is None:
            return None
        grouping = Grouping(self.usage.grouping)
        return rx.download(
            data=to_csv(report, grouping),
            filename=f"usage-{grouping.value}-{report.since}-{report.until}.csv",
            mime_type="text/csv",
        )

    @rx.event
    async def load_mine(self) -> None:
        """The user's own usage and limits (the settings page's ``on_load``)."""
        user = await self._verified_user()
        if user is None:
            return
        since, until = default_range()
        report = await usage_report.own_usage(user_id=user.id, since=since, until=until)
        limits = await limits_for_user(user_id=user.id, role=user.role.value)
        self.mine = MyUsage(
            by_day=[UsageItem.of(r) for r in report.by_day],
            by_model=[UsageItem.of(r) for r in report.by_model],
            total=UsageItem.of(report.total),
            tokens_today=report.by_day[-1].total_tokens if report.by_day else 0,
            messages_per_minute=limits.messages_per_minute,
            tokens_per_day=limits.tokens_per_day,
            concurrent_streams=limits.concurrent_streams,
            currency=report.currency,
        )

    # ------------------------------------------------------------------ limits

    async def _run(self, change: Change) -> str:
        """Do ``change`` as the signed-in admin; the error's code, or "" if it worked."""
        try:
            await change(await self._admin())
        except AppError as exc:
            return exc.code
        return ""

    async def _show_roles(self, actor: UserInfo) -> None:
        settings = await limit_admin.get_limit_settings(actor=actor)
        self.limits = LimitsPage(
            roles=[LimitRow.of(role.value, settings.roles[role]) for role in Role],
            fallback_streams=settings.fallback_concurrent_streams,
            currency=(await prices.get_price_settings(actor=actor)).currency,
        )

    def _limits_message(self, error_key: str, notice_key: str = "") -> None:
        page = self.limits or LimitsPage(roles=[], fallback_streams=0)
        self.limits = dataclasses.replace(page, error_key=error_key, notice_key=notice_key)

    @rx.event
    async def load_limits_page(self):
        """``on_load`` of the limits page: only admins stay."""
        redirect = await self._guard()
        if redirect is not None:
            return redirect
        self.dialog = None
        error = await self._run(self._show_roles)
        if error:
            self._limits_message(error)
        return None

    @rx.event
    async def save_role(self, form: dict[str, str]) -> None:
        """Save a role's defaults (an empty field: no limit; streams: the server's)."""
        role = str(form.get("role", ""))

        async def change(actor: UserInfo) -> None:
            values = parse_limits(form)
            limits = RoleLimits(
                messages_per_minute=values["messages_per_minute"] or 0,
                tokens_per_day=values["tokens_per_day"] or 0,
                concurrent_streams=values["concurrent_streams"],
            )
            await limit_admin.set_role_limits(actor=actor, role=role, limits=limits)
            await self._show_roles(actor)

        error = await self._run(change)
        self._limits_message(error, "" if error else "admin.saved")

    @rx.event
    async def save_currency(self, form: dict[str, str]) -> None:
        """Save the currency of the models' prices."""

        async def change(actor: UserInfo) -> None:
            await prices.set_currency(actor=actor, code=str(form.get("currency", "")))
            await self._show_roles(actor)

        error = await self._run(change)
        self._limits_message(error, "" if error else "admin.saved")

    def _show_user_limits(self, view: UserLimitsView, notice_key: str = "") -> None:
        self.dialog = UserDialog(
            user_id=view.user_id,
            email=view.email,
            own=LimitRow.of(view.role.value, view.own),
            effective=LimitRow.of(view.role.value, view.effective),
            notice_key=notice_key,
        )

    @rx.event
    async def open_user(self, form: dict[str, str]) -> None:
        """Open the dialog of the user whose id the form names."""
        raw = str(form.get("user_id", "")).strip()

        async def show(actor: UserInfo) -> None:
            if not raw.isdigit() or not 0 < int(raw) < 2**31:
                raise ValidationError("limits.invalid_user_id")
            self._show_user_limits(await limit_admin.get_user_limits(actor=actor, user_id=int(raw)))

        error = await self._run(show)
        if error:
            self._limits_message(error)

    @rx.event
    async def save_user(self, form: dict[str, str]) -> None:
        """Save the dialog's user's own limits (an empty field: the role's)."""
        dialog = self.dialog
        if dialog is None:
            return

        async def change(actor: UserInfo) -> None:
            view = await limit_admin.set_user_limits(
                actor=actor, user_id=dialog.user_id, limits=user_limits(form)
            )
            self._show_user_limits(view, "admin.saved")

        error = await self._run(change)
        if error and self.dialog is not None:
            self.dialog = dataclasses.replace(self.dialog, error_key=error, notice_key="")

    @rx.event
    def close_user(self, _open: bool = False) -> None:
        """Close the user's dialog."""
        self.dialog = None
