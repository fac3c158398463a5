"""The audit log: who changed what in the catalog, users and settings, and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import LongText, timestamp_column, utcnow


class AuditTarget(StrEnum):
    """What kind of thing an entry is about."""

    PROVIDER = "provider"
    MODEL = "model"
    USER = "user"
    SETTING = "setting"
    INVITE = "invite"


class AuditAction(StrEnum):
    """What an entry records (shown through the "admin.act_<action with _>" texts)."""

    PROVIDER_CREATE = "provider.create"
    PROVIDER_UPDATE = "provider.update"
    PROVIDER_DELETE = "provider.delete"
    MODEL_CREATE = "model.create"
    MODEL_IMPORT = "model.import"
    MODEL_UPDATE = "model.update"
    MODEL_DELETE = "model.delete"
    MODEL_DEFAULT = "model.default"
    USER_SIGN_OUT_EVERYWHERE = "user.sign_out_everywhere"
    USER_ROLE = "user.role"
    USER_ENABLE = "user.enable"
    USER_DISABLE = "user.disable"
    USER_RESET_PASSWORD = "user.reset_password"  # noqa: S105  (an action, not a secret)
    USER_DELETE = "user.delete"
    USER_LIMITS = "user.limits"
    USER_APPROVE = "user.approve"
    INVITE_CREATE = "invite.create"
    INVITE_REVOKE = "invite.revoke"
    SETTING_UPDATE = "setting.update"


class AuditEntry(SQLModel, table=True):
    """One change. Values are JSON with every secret masked (never a key, not even encrypted)."""

    __tablename__ = "audit_entry"  # type: ignore[assignment]
    __table_args__ = (
        sa.Index("ix_audit_entry_target_created", "target_type", "created_at"),
        sa.Index("ix_audit_entry_actor_created", "actor_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The admin who made the change (None: the shell or start-up, or a deleted account).
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # The actor's email as it was then ("system" for the shell and start-up).
    actor_email: str = Field(max_length=255)
    # What was done (an AuditAction).
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=32)
    # The changed row's id (it may have been deleted since) and its name then.
    target_id: int | None = Field(default=None)
    target_name: str = Field(default="", max_length=200)
    # The changed fields before and after, as JSON objects.
    old_values: str = Field(default="{}", sa_column=sa.Column(LongText, nullable=False))
    new_values: str = Field(default="{}", sa_column=sa.Column(LongText, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))
