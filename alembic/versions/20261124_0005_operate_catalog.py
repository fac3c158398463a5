"""operate the catalog: model sampling, prices, roles and reasoning; provider headers and
timeout; the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_CHARSET = "utf8mb4"
MYSQL_COLLATE = "utf8mb4_unicode_ci"
_MODEL_COLUMNS = (
    "is_reasoning",
    "allowed_roles",
    "price_output",
    "price_input",
    "top_p",
)


def _timestamp() -> sa.types.TypeEngine:
    return (
        sa.DateTime()
        .with_variant(mysql.DATETIME(fsp=6), "mariadb")
        .with_variant(mysql.DATETIME(fsp=6), "mysql")
    )


def _long_text() -> sa.types.TypeEngine:
    return (
        sa.Text()
        .with_variant(mysql.MEDIUMTEXT(), "mariadb")
        .with_variant(mysql.MEDIUMTEXT(), "mysql")
    )


def upgrade() -> None:
    with op.batch_alter_table("chat_model", schema=None) as batch_op:
        batch_op.add_column(sa.Column("top_p", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("price_input", sa.Numeric(12, 6), nullable=True))
        batch_op.add_column(sa.Column("price_output", sa.Numeric(12, 6), nullable=True))
        batch_op.add_column(
            sa.Column(
                "allowed_roles",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("is_reasoning", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "extra_headers_encrypted",
                sa.Text(),
                nullable=False,
                # MySQL/MariaDB give TEXT columns no literal default: existing rows get ''.
                server_default=sa.text("('')"),
            )
        )
        batch_op.add_column(sa.Column("timeout_seconds", sa.Float(), nullable=True))
    # Models known to think before they answer.
    op.execute("UPDATE chat_model SET is_reasoning = true WHERE model_name = 'deepseek-reasoner'")
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("old_values", _long_text(), nullable=False),
        sa.Column("new_values", _long_text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset=MYSQL_CHARSET,
        mysql_collate=MYSQL_COLLATE,
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entry_actor_created", ["actor_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_entry_target_created", ["target_type", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_entry_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_entry")
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_column("timeout_seconds")
        batch_op.drop_column("extra_headers_encrypted")
    with op.batch_alter_table("chat_model", schema=None) as batch_op:
        for column in _MODEL_COLUMNS:
            batch_op.drop_column(column)
