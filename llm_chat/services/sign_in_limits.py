"""How often a password may be tried: per account (email) and per client address.

Every sign-in attempt is a row of ``login_attempt`` from before its password is checked;
it stays as a failure unless the password was right (then the account's rows go) or the
attempt was refused unchecked. In the database, so that every worker counts the same
attempts. An attempt is committed before the rows are counted: of many sent at once, each
counts all committed before it, so a burst gets no more checks than the limit.

* An account (an email, registered or not, so a lock tells nobody who has an account) that
  failed ``LLM_CHAT_SIGNIN_ACCOUNT_LIMIT`` times within the window is locked from its
  newest failure: 1 minute, doubling with each failure after a lock, at most the window.
* A client address that failed ``LLM_CHAT_SIGNIN_ADDRESS_LIMIT`` times within the window,
  on any accounts, is locked until the oldest of those leaves the window.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from llm_chat.config import get_settings
from llm_chat.db import inserted_id, short_transaction
from llm_chat.models import LoginAttempt
from llm_chat.models.base import utcnow
from llm_chat.models.login_attempt import ADDRESS_MAX_LENGTH

# The first lock of an account; each failure after it doubles the next one.
FIRST_LOCK_SECONDS = 60
# Attempts deleted at most per call (each sign-in prunes: a backlog goes in a few).
DELETE_BATCH = 1000
_ATTEMPTS = LoginAttempt.__table__  # type: ignore[attr-defined]  (SQLModel sets it)


def _window() -> timedelta:
    return timedelta(seconds=get_settings().signin_window_seconds)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, math.ceil((moment - now).total_seconds()))


def _delete(connection: Connection, condition: sa.ColumnElement[bool]) -> None:
    """Delete the attempts matching ``condition``, found by a read that locks nothing and
    deleted by primary key.

    A range delete locks the index records it scans (rows of sign-ins in flight too)
    before their primary keys, while deleting one attempt locks its primary key first:
    concurrent sign-ins deadlocked on MariaDB, at READ COMMITTED as well (about 1 run in
    10 of the concurrent tests in ``tests/services/test_sign_in_limits.py``; none in 44
    with deletes by primary key). Rows made after the read stay: they are new.
    """
    found = sa.select(_ATTEMPTS.c.id).where(condition).limit(DELETE_BATCH)
    ids = connection.execute(found).scalars().all()
    if ids:
        connection.execute(sa.delete(_ATTEMPTS).where(_ATTEMPTS.c.id.in_(ids)))


@short_transaction
def forget_old_attempts(session: Session) -> None:
    """Delete the attempts that left the window."""
    _delete(session.connection(), _ATTEMPTS.c.created_at <= utcnow() - _window())


@short_transaction
def record_attempt(session: Session, *, email: str, address: str) -> int:
    """Count an attempt (as a failure until it is known to be none); returns its id.

    ``email`` normalized; ``address`` the client's IP address, "" if unknown.
    """
    values = {"email": email[:255], "address": address[:ADDRESS_MAX_LENGTH], "created_at": utcnow()}
    return inserted_id(session.connection().execute(sa.insert(_ATTEMPTS).values(values)))


@short_transaction
def admit(session: Session, *, attempt_id: int, email: str, address: str) -> int:
    """Whether attempt ``attempt_id`` may check its password: 0, or the seconds to wait
    before the next one may (then the attempt is forgotten: refused unchecked, it tells
    nothing, and it must not make the lock longer for the account's owner)."""
    settings, now = get_settings(), utcnow()
    since = now - _window()
    others = sa.and_(_ATTEMPTS.c.id != attempt_id, _ATTEMPTS.c.created_at > since)
    connection = session.connection()
    wait = 0
    failures, newest = connection.execute(
        sa.select(sa.func.count(), sa.func.max(_ATTEMPTS.c.created_at)).where(
            others, _ATTEMPTS.c.email == email[:255]
        )
    ).one()
    if failures >= settings.signin_account_limit:
        doublings = min(failures - settings.signin_account_limit, 20)
        lock = min(timedelta(seconds=FIRST_LOCK_SECONDS * 2**doublings), _window())
        wait = _seconds_until(newest + lock, now)
    if address:
        # The failure whose leaving the window brings the address below its limit.
        oldest_counted = connection.execute(
            sa.select(_ATTEMPTS.c.created_at)
            .where(others, _ATTEMPTS.c.address == address[:ADDRESS_MAX_LENGTH])
            .order_by(_ATTEMPTS.c.created_at.desc())
            .offset(settings.signin_address_limit - 1)
            .limit(1)
        ).scalar()
        if oldest_counted is not None:
            wait = max(wait, _seconds_until(oldest_counted + _window(), now))
    if wait:
        connection.execute(sa.delete(_ATTEMPTS).where(_ATTEMPTS.c.id == attempt_id))
    return wait


@short_transaction
def forget_failures(session: Session, *, email: str) -> None:
    """The account signed in: its failures no longer count."""
    _delete(session.connection(), _ATTEMPTS.c.email == email[:255])
