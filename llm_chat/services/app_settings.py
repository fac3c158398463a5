"""Settings an admin changes at run time, kept in the database (every worker reads the same).

A setting is declared once, as a :class:`Setting`: its key, a pydantic model for its value,
and the value it has until an admin sets one. Reads give the default for a missing or
unreadable row; writes check the admin, validate, and record the change in the audit log in
the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pydantic
import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.errors import ValidationError
from llm_chat.models import AppSetting, AuditAction, AuditTarget
from llm_chat.models.base import utcnow
from llm_chat.services import audit
from llm_chat.services.access import SYSTEM, require_admin
from llm_chat.services.users import UserInfo

logger = logging.getLogger(__name__)
V = TypeVar("V", bound=pydantic.BaseModel)

_SETTINGS = AppSetting.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
# Read on every chat turn: a plain statement built once (values at execution).
_READ = sa.select(_SETTINGS.c.value).where(_SETTINGS.c.key == sa.bindparam("key"))


@dataclass(frozen=True)
class Setting(Generic[V]):
    """A setting: where it is kept, the shape of its value, and its value until one is set."""

    key: str
    model: type[V]
    default: V


def read(session: Session, setting: Setting[V]) -> V:
    """The setting's value: the stored one, else its default (also for a stored value that
    no longer reads as the model: logged, never raised at a user)."""
    raw = session.connection().execute(_READ, {"key": setting.key}).scalar()
    if raw is None:
        return setting.default
    try:
        return setting.model.model_validate_json(raw)
    except pydantic.ValidationError:
        logger.error("Setting %s cannot be read; its default applies", setting.key)
        return setting.default


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys, so that the audit log names the field that changed."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def write(session: Session, setting: Setting[V], value: V, *, actor: UserInfo) -> V:
    """Store ``value`` (validated again) and audit the change, in ``session``'s transaction.

    Returns the value stored. Writing the value it already has changes nothing and records
    nothing.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``admin.invalid_setting`` if ``value`` does not fit the model.
    """
    require_admin(session, actor)
    try:
        value = setting.model.model_validate(value.model_dump())
    except pydantic.ValidationError as exc:
        raise ValidationError("admin.invalid_setting") from exc
    old = read(session, setting)
    if old == value:
        return value
    row = session.get(AppSetting, setting.key) or AppSetting(key=setting.key)
    row.value = value.model_dump_json()
    row.updated_at = utcnow()
    row.updated_by = None if actor is SYSTEM else actor.id
    session.add(row)
    old_values, new_values = audit.changes(_flat(old.model_dump()), _flat(value.model_dump()))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.SETTING_UPDATE,
        target_type=AuditTarget.SETTING,
        target_id=None,
        target_name=setting.key,
        old=old_values,
        new=new_values,
    )
    return value
