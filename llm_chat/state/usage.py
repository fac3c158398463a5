"""The usage page (admins): tokens and cost per day, model and user over a range of days."""

from __future__ import annotations

import reflex as rx

from llm_chat.errors import AppError, ForbiddenError, ValidationError
from llm_chat.services import usage_report
from llm_chat.services.usage_report import Grouping, UsageReport, to_csv
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE, AuthState
from llm_chat.state.usage_items import UsageItem, default_range, parse_day

USAGE_ROUTE = "/admin/usage"


class UsageState(AuthState):
    """The range asked for and its report; the service checks the admin role on every call."""

    # The range shown, as ISO dates (UTC days, both included).
    since: str = ""
    until: str = ""
    # What the chart and the table show: "day", "model" or "user".
    grouping: str = Grouping.DAY.value
    # The rows of each grouping, and the whole range's total.
    by_day: list[UsageItem] = []  # noqa: RUF012
    by_model: list[UsageItem] = []  # noqa: RUF012
    by_user: list[UsageItem] = []  # noqa: RUF012
    total: UsageItem | None = None
    # Translation key of the last error, or empty.
    error_key: str = ""

    @rx.var
    def rows(self) -> list[UsageItem]:
        """The rows of the grouping shown."""
        return {"model": self.by_model, "user": self.by_user}.get(self.grouping, self.by_day)

    async def _report(self) -> UsageReport | None:
        """The report of the range asked for, or None with the error shown."""
        actor = await self.verified_user()
        since, until = parse_day(self.since), parse_day(self.until)
        try:
            if actor is None:
                raise ForbiddenError("admin.only_admins")
            if since is None or until is None:
                raise ValidationError("usage.invalid_range")
            report = await usage_report.usage_report(actor=actor, since=since, until=until)
        except AppError as exc:
            self.error_key = exc.code
            return None
        self.error_key = ""
        return report

    async def _show(self) -> None:
        report = await self._report()
        if report is None:
            return
        self.by_day = [UsageItem.of(r) for r in report.by_day]
        self.by_model = [UsageItem.of(r) for r in report.by_model]
        self.by_user = [UsageItem.of(r) for r in report.by_user]
        self.total = UsageItem.of(report.total)

    @rx.event
    async def load_page(self):
        """``on_load``: only admins stay; the last 30 days."""
        user = await self.verified_user()
        if user is None:
            return rx.redirect(LOGIN_ROUTE)
        if not user.is_admin:
            return rx.redirect(HOME_ROUTE)
        if not self.since:
            since, until = default_range()
            self.since, self.until = since.isoformat(), until.isoformat()
        await self._show()
        return None

    @rx.event
    async def show_range(self, form: dict[str, str]) -> None:
        """Show the range of the form."""
        self.since = str(form.get("since", ""))
        self.until = str(form.get("until", ""))
        await self._show()

    @rx.event
    def pick_grouping(self, grouping: str | list[str]) -> None:
        """Show the rows per day, model or user."""
        if isinstance(grouping, str) and grouping in {g.value for g in Grouping}:
            self.grouping = grouping

    @rx.event
    async def download_csv(self):
        """The grouping shown, over the range shown, as a CSV file."""
        report = await self._report()
        if report is None:
            return None
        grouping = Grouping(self.grouping)
        return rx.download(
            data=to_csv(report, grouping),
            filename=f"usage-{grouping.value}-{report.since}-{report.until}.csv",
            mime_type="text/csv",
        )
