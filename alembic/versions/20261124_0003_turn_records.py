"""turn records: who wrote a reply, its reasoning, the context cut; model context windows

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reasoning",
                sa.Text()
                .with_variant(mysql.MEDIUMTEXT(), "mariadb")
                .with_variant(mysql.MEDIUMTEXT(), "mysql"),
                nullable=False,
                # MySQL/MariaDB give TEXT columns no literal default: existing rows get ''.
                server_default=sa.text("('')"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "model_name",
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "provider_name",
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("context_dropped", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("chat_model", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context_window", sa.Integer(), nullable=True))
    # Replies written before this revision: name their model and provider as they are now.
    op.execute(
        "UPDATE message SET model_name = (SELECT chat_model.display_name FROM chat_model"
        " WHERE chat_model.id = message.model_id),"
        " provider_name = (SELECT provider.name FROM chat_model JOIN provider"
        " ON provider.id = chat_model.provider_id WHERE chat_model.id = message.model_id)"
        " WHERE message.model_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("chat_model", schema=None) as batch_op:
        batch_op.drop_column("context_window")
    with op.batch_alter_table("message", schema=None) as batch_op:
        for column in ("context_dropped", "provider_name", "model_name", "reasoning"):
            batch_op.drop_column(column)
