"""sign-up policy: accounts waiting for an admin's approval, and one-time invitations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_CHARSET = "utf8mb4"
MYSQL_COLLATE = "utf8mb4_unicode_ci"


def _timestamp() -> sa.types.TypeEngine:
    return (
        sa.DateTime()
        .with_variant(mysql.DATETIME(fsp=6), "mariadb")
        .with_variant(mysql.DATETIME(fsp=6), "mysql")
    )


def upgrade() -> None:
    # A plain ADD COLUMN: a batch would rebuild the table on SQLite without AUTOINCREMENT.
    op.add_column(
        "user_account",
        sa.Column("pending_approval", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.Column("used_at", _timestamp(), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["used_by"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        mysql_charset=MYSQL_CHARSET,
        mysql_collate=MYSQL_COLLATE,
    )
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invite_email"), ["email"], unique=False)


def downgrade() -> None:
    op.drop_table("invite")
    # SQLite drops a column by rebuilding the table: keep it AUTOINCREMENT (see 0004).
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "user_account", table_kwargs={"sqlite_autoincrement": True} if sqlite else {}
    ) as batch_op:
        batch_op.drop_column("pending_approval")
