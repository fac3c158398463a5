"""Per-user limits: role defaults, a user's own, counted from the database; a turn over a
limit is refused before the provider is asked or anything is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.errors import LimitError, RateLimitedError
from llm_chat.models import Role
from llm_chat.models.base import utcnow
from llm_chat.services import conversations, limits, turns
from llm_chat.services.limits import Limits, start_of_day
from tests.fake_provider import FakeProvider, ReplySpec
from tests.support.factories import (
    add_usage,
    make_model,
    make_user,
    set_role_limits,
    set_user_limits,
)


def _limits(user_id: int, role: Role = Role.USER) -> Limits:
    with session_scope() as session:
        return limits.limits_for(session, user_id=user_id, role=role.value)


def _check(user_id: int, **kwargs: object) -> Limits:
    with session_scope() as session:
        return limits.check_turn(session, user_id=user_id, role="user", **kwargs)  # type: ignore[arg-type]


async def test_limits_come_from_the_user_else_the_role_else_the_environment(
    app_db: Engine,
) -> None:
    user = make_user()
    # Nothing set: no rate limits, streams as LLM_CHAT_MAX_STREAMS_PER_USER (4).
    assert _limits(user.id) == Limits(0, 0, 4)
    set_role_limits(Role.USER, messages_per_minute=10, tokens_per_day=5000)
    set_role_limits(Role.ADMIN, concurrent_streams=0)
    assert _limits(user.id) == Limits(10, 5000, 4)
    assert _limits(user.id, Role.ADMIN) == Limits(0, 0, 0)
    # A user's own limit wins, field by field; 0 lifts it.
    set_user_limits(user.id, messages_per_minute=0, concurrent_streams=1)
    assert _limits(user.id) == Limits(0, 5000, 1)
    set_user_limits(user.id)  # none of their own: the role's again
    assert _limits(user.id) == Limits(10, 5000, 4)


async def test_messages_per_minute_count_the_last_minute_and_say_when_it_frees(
    app_db: Engine,
) -> None:
    user, other = make_user(), make_user()
    set_user_limits(user.id, messages_per_minute=2)
    now = utcnow()
    add_usage(user.id, at=now - timedelta(seconds=61))  # older than a minute
    add_usage(user.id, at=now - timedelta(seconds=50))
    add_usage(other.id, at=now - timedelta(seconds=5))  # someone else's
    assert _check(user.id, now=now).messages_per_minute == 2
    add_usage(user.id, at=now - timedelta(seconds=20))
    with pytest.raises(RateLimitedError) as refused:
        _check(user.id, now=now)
    assert refused.value.code == "limits.messages_per_minute"
    # The older of the two frees its place 10 s from now.
    assert refused.value.retry_after == 10
    assert refused.value.retry_minutes == 1
    assert _check(user.id, now=now + timedelta(seconds=11)).messages_per_minute == 2


async def test_tokens_per_day_count_since_midnight_utc_and_reset_then(app_db: Engine) -> None:
    user = make_user()
    set_role_limits(Role.USER, tokens_per_day=1000)
    now = start_of_day(utcnow()) + timedelta(hours=22)
    add_usage(user.id, at=now - timedelta(hours=23), prompt_tokens=900)  # yesterday
    add_usage(user.id, at=now - timedelta(hours=2), prompt_tokens=600, completion_tokens=399)
    assert _check(user.id, now=now).tokens_per_day == 1000
    add_usage(user.id, at=now - timedelta(hours=1), completion_tokens=1)
    with pytest.raises(RateLimitedError) as refused:
        _check(user.id, now=now)
    assert refused.value.code == "limits.tokens_per_day"
    assert refused.value.retry_after == 2 * 3600
    assert refused.value.retry_minutes == 120
    assert _check(user.id, now=now + timedelta(hours=2, seconds=1)).tokens_per_day == 1000


async def test_a_turn_over_a_limit_asks_and_writes_nothing(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    set_user_limits(user.id, messages_per_minute=1)
    turn = await turns.start_turn(user_id=user.id, conversation_id=None, model=model_id, text="1")
    await turn.outcome()
    for start in (
        turns.start_turn(user_id=user.id, conversation_id=None, model=model_id, text="2"),
        turns.start_gateway_turn(
            user_id=user.id, model="", messages=[{"role": "user", "content": "2"}], store=False
        ),
    ):
        with pytest.raises(RateLimitedError):
            await start
    assert len(provider.chat_requests) == 1
    assert len(await conversations.list_conversations(user_id=user.id)) == 1


async def test_unsaved_gateway_turns_count_too(app_db: Engine, provider: FakeProvider) -> None:
    user = make_user()
    model_id = make_model(provider.base_url)
    set_user_limits(user.id, messages_per_minute=2)
    for _ in range(2):
        turn = await turns.start_gateway_turn(
            user_id=user.id, model="", messages=[{"role": "user", "content": "Hi"}], store=False
        )
        await turn.outcome()
    with pytest.raises(RateLimitedError):
        await turns.start_turn(user_id=user.id, conversation_id=None, model=model_id, text="3")
    assert len(provider.chat_requests) == 2


async def test_the_stream_cap_is_the_user_s_own(app_db: Engine, provider: FakeProvider) -> None:
    user, other = make_user(), make_user()
    model_id = make_model(provider.base_url)
    set_role_limits(Role.USER, concurrent_streams=2)
    set_user_limits(user.id, concurrent_streams=1)
    provider.default = ReplySpec(token_count=200, delay=0.01)
    first = await turns.start_turn(user_id=user.id, conversation_id=None, model=model_id, text="1")
    with pytest.raises(LimitError) as refused:
        await turns.start_turn(user_id=user.id, conversation_id=None, model=model_id, text="2")
    assert refused.value.code == "chat.too_many_streams"
    # The role's two for everyone else.
    others = [
        await turns.start_turn(user_id=other.id, conversation_id=None, model=model_id, text=t)
        for t in ("a", "b")
    ]
    with pytest.raises(LimitError):
        await turns.start_turn(user_id=other.id, conversation_id=None, model=model_id, text="c")
    assert len(provider.chat_requests) == 3
    for turn in (first, *others):
        await turn.close()
