"""The audit log: every admin change, written in the transaction that makes it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from llm_chat.db import transaction
from llm_chat.errors import ValidationError
from llm_chat.models import AuditAction, AuditEntry, AuditTarget
from llm_chat.services.access import SYSTEM, require_admin
from llm_chat.services.users import UserInfo

MAX_PAGE = 200


@dataclass(frozen=True)
class AuditView:
    """One entry as the admin page and the API show it."""

    id: int
    at: datetime
    actor_id: int | None
    actor_email: str
    action: str
    target_type: str
    target_id: int | None
    target_name: str
    # The fields that changed, before and after (secrets masked).
    old_values: dict[str, Any]
    new_values: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first, and how many match in all."""

    entries: list[AuditView]
    total: int


def changes(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose values differ, as they were and as they are."""
    keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys if k in old}, {k: new.get(k) for k in keys if k in new}


def record(
    session: Session,
    *,
    actor: UserInfo,
    action: AuditAction,
    target_type: AuditTarget,
    target_id: int | None,
    target_name: str,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> None:
    """Add an entry to ``session``'s transaction: it is kept only if the change is.

    ``old`` and ``new`` must hold no secret: the services pass the snapshots of
    :mod:`llm_chat.services.catalog_fields`, which mask keys and header values.
    """
    session.add(
        AuditEntry(
            actor_id=None if actor is SYSTEM else actor.id,
            actor_email=actor.email[:255],
            action=action.value,
            target_type=target_type.value,
            target_id=target_id,
            target_name=target_name[:200],
            old_values=json.dumps(dict(old or {}), ensure_ascii=False, default=str),
            new_values=json.dumps(dict(new or {}), ensure_ascii=False, default=str),
        )
    )


def _view(entry: AuditEntry) -> AuditView:
    return AuditView(
        id=entry.id or 0,
        at=entry.created_at,
        actor_id=entry.actor_id,
        actor_email=entry.actor_email,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        target_name=entry.target_name,
        old_values=json.loads(entry.old_values),
        new_values=json.loads(entry.new_values),
    )


@transaction
def list_entries(
    session: Session,
    *,
    actor: UserInfo,
    actor_email: str = "",
    target_type: str = "",
    target_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Entries newest first, filtered by actor (email, exact), target and time
    (``since`` inclusive, ``until`` exclusive, UTC).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``admin.invalid_audit_filter`` (an unknown target type, a bad page).
    """
    require_admin(session, actor)
    if target_type and target_type not in {t.value for t in AuditTarget}:
        raise ValidationError("admin.invalid_audit_filter")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValidationError("admin.invalid_audit_filter")
    conditions = []
    if actor_email.strip():
        conditions.append(col(AuditEntry.actor_email) == actor_email.strip().lower())
    if target_type:
        conditions.append(col(AuditEntry.target_type) == target_type)
    if target_id is not None:
        conditions.append(col(AuditEntry.target_id) == target_id)
    if since is not None:
        conditions.append(col(AuditEntry.created_at) >= since)
    if until is not None:
        conditions.append(col(AuditEntry.created_at) < until)
    total = session.exec(select(func.count()).select_from(AuditEntry).where(*conditions)).one()
    rows = session.exec(
        select(AuditEntry)
        .where(*conditions)
        .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return AuditPage(entries=[_view(r) for r in rows], total=total)
