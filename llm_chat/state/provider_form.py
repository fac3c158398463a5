"""Test connection in the add-provider form and the edit dialog: the values typed, checked
before anything is saved (the admin page's handlers are in ``state/admin.py``).

Both forms have two submit buttons, Test connection and Add (or Save). A browser sends a
form's fields only with a submit, and without the button that submitted it, so each button's
click first tells the state what the submit that follows is for (a tab's events run in
order); Test connection skips the form's required-field checks (``formnovalidate``). The key
typed goes from the browser to the check and is never kept in the state or sent back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from llm_chat.errors import AppError, ForbiddenError
from llm_chat.providers import ProviderError
from llm_chat.services import provider_check
from llm_chat.services.catalog_fields import check_base_url
from llm_chat.services.provider_check import ConnectionReport
from llm_chat.services.users import UserInfo
from llm_chat.state.admin_forms import provider_values

# The forms a check is shown in.
NEW = "new"
EDIT = "edit"


@dataclasses.dataclass
class FormCheck:
    """A check of a form's values: the form it belongs to and what it found."""

    # NEW (the add-provider form) or EDIT (the edit dialog).
    form: str
    running: bool = False
    # Why no request was made (a bad URL, a stored key not typed again for a new URL).
    error_key: str = ""
    models_code: str = ""
    models_ms: int = 0
    # How many model ids the provider listed.
    listed: int = 0
    completion_model: str = ""
    completion_code: str = ""
    completion_ms: int = 0

    @classmethod
    def of(cls, form: str, report: ConnectionReport) -> FormCheck:
        """What ``report`` found, for ``form``."""
        return cls(
            form=form,
            models_code=report.models_code,
            models_ms=report.models_ms,
            listed=len(report.models),
            completion_model=report.completion_model,
            completion_code=report.completion_code,
            completion_ms=report.completion_ms,
        )


@dataclasses.dataclass(frozen=True)
class Listed:
    """The models a new provider's check listed, and the (checked) base URL it listed them at."""

    base_url: str = ""
    models: tuple[str, ...] = ()


async def check_form(
    actor: UserInfo | None,
    which: str,
    form: Mapping[str, object],
    *,
    provider_id: int | None = None,
    default_url: str = "",
) -> tuple[FormCheck, Listed]:
    """Check the values of form ``which`` (provider ``provider_id``'s as edited, for EDIT):
    what to show, and what a new provider listed. Refusals are shown, never raised."""
    try:
        if actor is None:
            raise ForbiddenError("admin.only_admins")
        values = provider_values(form, edited=which == EDIT, default_url=default_url)
        report = await provider_check.check_values(
            actor=actor, values=values, provider_id=provider_id
        )
    except (AppError, ProviderError) as exc:
        return FormCheck(form=which, error_key=exc.code), Listed()
    listed = Listed()
    if which == NEW:  # the URL passed the check: check_base_url does not raise
        listed = Listed(check_base_url(values.base_url), tuple(report.models))
    return FormCheck.of(which, report), listed
