"""Column helpers shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Table options of the tables whose ids reach users (links, tokens, API paths): SQLite
# without AUTOINCREMENT gives a deleted newest row's id to the next row, so an old link would
# open another conversation. MySQL/MariaDB (InnoDB, persistent since MariaDB 10.2.4 and
# MySQL 8.0) never reuse an AUTO_INCREMENT id.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}

# Message bodies: TEXT on SQLite, MEDIUMTEXT (16 MB) on MySQL, where TEXT stops at 64 KB.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def timestamp_column(*, index: bool = False) -> sa.Column:  # type: ignore[type-arg]
    """A non-null timestamp with microseconds on MySQL too."""
    return sa.Column(
        sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
        nullable=False,
        default=utcnow,
        index=index,
    )


def optional_timestamp_column() -> sa.Column:  # type: ignore[type-arg]
    """A nullable timestamp (``None`` until something happens), with microseconds on MySQL."""
    return sa.Column(
        sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=True
    )
