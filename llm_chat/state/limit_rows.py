"""Limits as the limits page's forms show and send them."""

from __future__ import annotations

import dataclasses

from llm_chat.errors import ValidationError
from llm_chat.services.limits import UserLimits

# The form fields of a limit, in the order the page shows them.
FIELDS = ("messages_per_minute", "tokens_per_day", "concurrent_streams")


@dataclasses.dataclass
class LimitRow:
    """A role's or a user's limits as a form shows them ("": the default applies)."""

    role: str
    messages_per_minute: str
    tokens_per_day: str
    concurrent_streams: str

    @classmethod
    def of(cls, role: str, limits: object) -> LimitRow:
        """The fields of ``limits`` (role defaults, a user's own or effective limits)."""
        values = [getattr(limits, name) for name in FIELDS]
        return cls(role, *("" if value is None else str(value) for value in values))


def parse_number(raw: str) -> int | None:
    """A form's number ("": None; thousands separators allowed).

    Raises:
        ValidationError: ``admin.invalid_limit``.
    """
    raw = raw.strip().replace(",", "").replace("_", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError("admin.invalid_limit")
    return int(raw)


def parse_limits(form: dict[str, str]) -> dict[str, int | None]:
    """The limit fields of a form."""
    return {name: parse_number(str(form.get(name, ""))) for name in FIELDS}


def user_limits(form: dict[str, str]) -> UserLimits:
    """A user's own limits from the dialog's form."""
    return UserLimits(**parse_limits(form))
