"""Password guessing is slowed down per account and per client address, in the database (so
every worker counts the same attempts); on SQLite and MariaDB."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from llm_chat import config as config_module
from llm_chat.db import session_scope
from llm_chat.errors import AuthError, RateLimitedError
from llm_chat.models import LoginAttempt
from llm_chat.models.base import utcnow
from llm_chat.security import hash_password
from llm_chat.services import sessions, sign_in_limits, users
from tests.support.factories import PASSWORD, make_user

ADDRESS = "198.51.100.7"
WRONG = "not-the-password"
Clock = Callable[[float], None]


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check many passwords: bcrypt's lowest cost keeps them quick."""
    monkeypatch.setattr(users, "hash_password", lambda password: hash_password(password, 4))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Move the limits' clock forward by some seconds."""
    start, offset = utcnow(), [0.0]
    monkeypatch.setattr(sign_in_limits, "utcnow", lambda: start + timedelta(seconds=offset[0]))

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


@pytest.fixture
def address_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A per-address limit of 3 failures (the default, 30, makes a slow test)."""
    monkeypatch.setenv("LLM_CHAT_SIGNIN_ADDRESS_LIMIT", "3")
    config_module.get_settings.cache_clear()
    yield 3
    monkeypatch.delenv("LLM_CHAT_SIGNIN_ADDRESS_LIMIT")
    config_module.get_settings.cache_clear()


async def _try(email: str, password: str, address: str = ADDRESS) -> str | int:
    """``"ok"``, the error code of a refusal, or the seconds a locked attempt must wait."""
    try:
        await sessions.sign_in(email=email, password=password, address=address)
    except RateLimitedError as exc:
        return exc.retry_after
    except AuthError as exc:
        return exc.code
    return "ok"


async def test_five_failures_lock_the_account_even_for_the_right_password(
    app_db: Engine, clock: Clock
) -> None:
    make_user("ann@example.com")
    for _ in range(5):
        assert await _try("ann@example.com", WRONG) == "auth.bad_credentials"
    # Locked: the right password is refused just like a wrong one, unchecked.
    right, wrong = await _try("ann@example.com", PASSWORD), await _try("ANN@example.com", WRONG)
    assert right == wrong == 60
    # From any address: the lock is the account's.
    assert await _try("ann@example.com", PASSWORD, address="203.0.113.9") == 60

    clock(61)
    assert await _try("ann@example.com", PASSWORD) == "ok"
    # Success forgets the failures: five more before the next lock.
    for _ in range(5):
        assert await _try("ann@example.com", WRONG) == "auth.bad_credentials"
    assert await _try("ann@example.com", PASSWORD) == 60


async def test_the_lock_grows_with_each_failure_after_it(app_db: Engine, clock: Clock) -> None:
    make_user("bea@example.com")
    for _ in range(5):
        await _try("bea@example.com", WRONG)
    waits = []
    for _ in range(3):
        wait = await _try("bea@example.com", WRONG)
        assert isinstance(wait, int)
        waits.append(wait)
        clock(wait + 1)
        assert await _try("bea@example.com", WRONG) == "auth.bad_credentials"
    assert waits == [60, 120, 240]


async def test_unknown_emails_lock_alike(app_db: Engine) -> None:
    # Otherwise a lock would tell who has an account.
    for _ in range(5):
        assert await _try("nobody@example.com", WRONG) == "auth.bad_credentials"
    assert await _try("nobody@example.com", WRONG) == 60


async def test_an_address_is_locked_after_failing_on_many_accounts(
    app_db: Engine, clock: Clock, address_limit: int
) -> None:
    make_user("cy@example.com")
    for n in range(address_limit):
        assert await _try(f"guess{n}@example.com", WRONG) == "auth.bad_credentials"
    clock(60)
    assert await _try("cy@example.com", PASSWORD) == 900 - 60
    assert await _try("cy@example.com", PASSWORD, address="203.0.113.9") == "ok"
    clock(900 - 60)  # the oldest failure leaves the window
    assert await _try("cy@example.com", PASSWORD) == "ok"


async def test_concurrent_guesses_get_no_more_than_the_limit(app_db: Engine) -> None:
    make_user("dee@example.com")
    outcomes = await asyncio.gather(*(_try("dee@example.com", WRONG) for _ in range(20)))
    # Each attempt counts those committed before it, in flight or failed: at most five get
    # their password checked (fewer if many were in flight at once).
    assert outcomes.count("auth.bad_credentials") <= 5
    assert all(isinstance(o, int) and o > 0 for o in outcomes if o != "auth.bad_credentials")


async def test_attempts_are_forgotten_after_the_window(app_db: Engine, clock: Clock) -> None:
    for n in range(3):
        await _try(f"old{n}@example.com", WRONG)
    clock(901)
    await _try("new@example.com", WRONG)
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(LoginAttempt)).one() == 1


async def test_concurrent_sign_ins_all_get_an_answer(app_db: Engine, clock: Clock) -> None:
    # Pruning, counting, refusing and forgetting at once, on the same rows: on MariaDB range
    # deletes here deadlocked (see sign_in_limits._delete).
    emails = [make_user(f"eve{n}@example.com").email for n in range(3)]
    for n in range(4):
        await _try(f"stale{n}@example.com", WRONG)
    clock(901)  # those are pruned during the burst
    attempts = [
        _try(emails[n % 3], PASSWORD if n % 4 == 0 else WRONG, address=f"192.0.2.{n % 5}")
        for n in range(36)
    ]
    outcomes = await asyncio.gather(*attempts)
    assert set(outcomes) <= {"ok", "auth.bad_credentials"} | {
        o for o in outcomes if isinstance(o, int)
    }
    assert "ok" in outcomes
