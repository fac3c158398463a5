"""The admin page's audit log tab: who changed what, filtered and paged."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time, timedelta
from typing import Any

import reflex as rx

from llm_chat.errors import AppError, ForbiddenError, ValidationError
from llm_chat.services import audit
from llm_chat.services.audit import AuditView
from llm_chat.state.auth import AuthState

PAGE_SIZE = 25
# A value longer than this is cut in the list (a system prompt, say).
VALUE_CHARS = 120


@dataclasses.dataclass
class AuditRow:
    """An entry as the list shows it; times as ``YYYY-MM-DD HH:MM:SS`` UTC."""

    id: int
    when: str
    who: str
    # Translation keys of the action ("admin.act_model_update") and of the target's type.
    action_key: str
    target_key: str
    target: str
    # One "field: old → new" line per changed field.
    changes: list[str]


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _blank(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {})


def _lines(view: AuditView) -> list[str]:
    fields = list(dict.fromkeys([*view.old_values, *view.new_values]))
    lines = []
    for field in fields:
        old, new = view.old_values.get(field), view.new_values.get(field)
        # What a row was made with or had when it was deleted: its blank fields say nothing.
        if field not in view.old_values:
            if not _blank(new):
                lines.append(f"{field}: {_value(new)}")
        elif field not in view.new_values:
            if not _blank(old):
                lines.append(f"{field}: {_value(old)} →")
        else:
            lines.append(f"{field}: {_value(old)} → {_value(new)}")
    return lines


def _row(view: AuditView) -> AuditRow:
    return AuditRow(
        id=view.id,
        when=view.at.strftime("%Y-%m-%d %H:%M:%S"),
        who=view.actor_email,
        action_key="admin.act_" + view.action.replace(".", "_"),
        target_key="admin.target_" + view.target_type,
        target=f"{view.target_name} (#{view.target_id})" if view.target_id else view.target_name,
        changes=_lines(view),
    )


def _day(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError("admin.invalid_audit_filter") from exc


class AuditState(AuthState):
    """The audit log's filters and the page of entries they match; the service checks the
    admin role on every call."""

    # The page of entries shown, newest first, and how many match in all.
    entries: list[AuditRow] = []  # noqa: RUF012
    total: int = 0
    offset: int = 0
    # The filters: the actor's email, the target type ("" all), days from/to (YYYY-MM-DD).
    actor: str = ""
    target_type: str = ""
    day_from: str = ""
    day_to: str = ""
    # Translation key of the last error.
    error_key: str = ""

    @rx.var
    def has_newer(self) -> bool:
        """Whether a newer page exists."""
        return self.offset > 0

    @rx.var
    def has_older(self) -> bool:
        """Whether an older page exists."""
        return self.offset + PAGE_SIZE < self.total

    async def _load(self) -> None:
        actor = await self._verified_user()
        try:
            if actor is None:
                raise ForbiddenError("admin.only_admins")
            start, end = _day(self.day_from), _day(self.day_to)
            page = await audit.list_entries(
                actor=actor,
                actor_email=self.actor,
                target_type=self.target_type,
                since=datetime.combine(start, time()) if start else None,
                until=datetime.combine(end + timedelta(days=1), time()) if end else None,
                limit=PAGE_SIZE,
                offset=self.offset,
            )
        except AppError as exc:
            self.error_key = exc.code
            self.entries, self.total = [], 0
            return
        self.error_key = ""
        self.entries = [_row(e) for e in page.entries]
        self.total = page.total

    @rx.event
    async def open_tab(self, tab: str) -> None:
        """The admin page's tab changed: load the newest entries when it is this one."""
        if tab == "audit":
            self.offset = 0
            await self._load()

    @rx.event
    async def apply_filter(self, form: dict[str, str]) -> None:
        """Apply the filter form, from the newest entry."""
        self.actor = str(form.get("actor", "")).strip()[:255]
        target_type = str(form.get("target_type", ""))
        self.target_type = "" if target_type == "all" else target_type
        self.day_from = str(form.get("day_from", ""))
        self.day_to = str(form.get("day_to", ""))
        self.offset = 0
        await self._load()

    @rx.event
    async def older(self) -> None:
        """The next page of older entries."""
        if self.has_older:
            self.offset += PAGE_SIZE
            await self._load()

    @rx.event
    async def newer(self) -> None:
        """The previous page of newer entries."""
        self.offset = max(0, self.offset - PAGE_SIZE)
        await self._load()
