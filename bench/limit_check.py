"""The cost of the limit check a turn makes (``services.limits.check_turn``), on SQLite and
MariaDB: ``python -m bench.limit_check``.

50 users with 200 turns a day for 30 days (300,000 usage rows); the measured user has 1,000
turns today. Each check runs in a transaction of its own, as the turn's plan does, against
one that only runs ``SELECT 1``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("LLM_CHAT_ENV_FILE", "")
os.environ.setdefault("LLM_CHAT_DATA_DIR", tempfile.mkdtemp(prefix="limit-bench-"))
os.environ.setdefault("LLM_CHAT_JWT_SECRET", secrets.token_urlsafe(48))
os.environ.setdefault("LLM_CHAT_ENCRYPTION_KEY", secrets.token_urlsafe(48))

import sqlalchemy as sa

from llm_chat import config, db
from llm_chat.models import UsageRecord
from llm_chat.models.base import utcnow
from llm_chat.services import limits
from tests.support.databases import (
    create_mysql_database,
    drop_mysql_database,
    migrate,
    sqlite_url,
)
from tests.support.factories import make_user, set_user_limits

USERS, DAYS, TURNS_A_DAY, EXTRA_TODAY = 50, 30, 200, 800
CHECKS = 300


def _use(url: str) -> sa.Engine:
    os.environ["LLM_CHAT_DATABASE_URL"] = url
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    return db.get_engine()


def _seed(engine: sa.Engine) -> int:
    users = [make_user() for _ in range(USERS)]
    now = utcnow()
    rows = [
        {
            "user_id": user.id,
            "model_name": "m",
            "prompt_tokens": 100,
            "completion_tokens": 50,
            "estimated": False,
            "created_at": now - timedelta(days=day, minutes=turn),
        }
        for user in users
        for day in range(DAYS)
        for turn in range(TURNS_A_DAY)
    ]
    rows += [
        {**rows[0], "created_at": now - timedelta(seconds=30 * turn)} for turn in range(EXTRA_TODAY)
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(sa.insert(UsageRecord.__table__), rows[start : start + 5000])  # type: ignore[attr-defined]
    return users[0].id


def _ms_per_call(work: object) -> float:
    started = time.perf_counter()
    for _ in range(CHECKS):
        with db.session_scope() as session:
            work(session)  # type: ignore[operator]
    return (time.perf_counter() - started) / CHECKS * 1000


def run(url: str, label: str) -> None:
    """Seed a database at ``url`` and print the check's cost with and without limits."""
    migrate(url)
    engine = _use(url)
    user_id = _seed(engine)
    for case, set_limits in (("no limits", False), ("per-minute and per-day limits", True)):
        if set_limits:
            set_user_limits(user_id, messages_per_minute=1000, tokens_per_day=10**9)
        check = _ms_per_call(lambda s: limits.check_turn(s, user_id=user_id, role="user"))
        bare = _ms_per_call(lambda s: s.connection().execute(sa.text("SELECT 1")))
        print(f"{label:8} {case:30} check {check:.2f} ms  (SELECT 1: {bare:.2f} ms)")
    engine.dispose()


def main() -> None:
    """Both databases, one after the other."""
    run(sqlite_url(Path(tempfile.mkdtemp(prefix="limit-bench-"))), "SQLite")
    name, url = create_mysql_database()
    try:
        run(url, "MariaDB")
    finally:
        drop_mysql_database(name)


if __name__ == "__main__":
    main()
