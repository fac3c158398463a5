"""api keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:57:37.649037
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# utf8mb4 so that every character (emoji, CJK extension planes) is stored on MySQL/MariaDB.
MYSQL_CHARSET = "utf8mb4"
MYSQL_COLLATE = "utf8mb4_unicode_ci"


def _timestamp() -> sa.types.TypeEngine:
    return (
        sa.DateTime()
        .with_variant(mysql.DATETIME(fsp=6), "mariadb")
        .with_variant(mysql.DATETIME(fsp=6), "mysql")
    )


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("last_used_at", _timestamp(), nullable=True),
        sa.Column("revoked_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset=MYSQL_CHARSET,
        mysql_collate=MYSQL_COLLATE,
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_key_hash"), ["key_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_key_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    # Dropping the table drops its indexes; MySQL refuses to drop an index a foreign key uses.
    op.drop_table("api_key")
