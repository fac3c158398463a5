"""Each turn's tokens and cost: the provider's usage when it reports it, else an estimate
marked as such; the cost at the model's prices when the turn started."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import MessageStatus
from llm_chat.providers import ModelTarget, StreamStats
from llm_chat.services import catalog, turns
from llm_chat.services.access import SYSTEM
from llm_chat.services.context import count_tokens
from llm_chat.services.usage import at_end, cost_nanos, nanos_to_units
from tests.fake_provider import FakeProvider, ReplySpec
from tests.support.factories import make_model, make_user, usage_records


def test_cost_is_exact_in_nano_units_at_prices_per_million_tokens() -> None:
    # 1,234 prompt tokens at 0.15 and 567 reply tokens at 0.60 per million.
    nanos = cost_nanos(1234, 567, Decimal("0.15"), Decimal("0.60"))
    assert nanos == 1234 * 150 + 567 * 600 == 525_300
    assert nanos_to_units(nanos) == Decimal("0.0005253")
    # A price of 0.000001 per million: a thousandth of a nano-unit a token, rounded half to
    # even per turn.
    assert cost_nanos(500, 0, Decimal("0.000001"), None) == 0
    assert cost_nanos(1500, 0, Decimal("0.000001"), None) == 2
    assert cost_nanos(2500, 0, Decimal("0.000001"), None) == 2
    # Only an output price: the prompt is free. No prices: unknown.
    assert cost_nanos(1000, 1000, None, Decimal("2")) == 2_000_000
    assert cost_nanos(1000, 1000, None, None) is None
    # The largest price, a million tokens: 999,999.999999 units, exactly.
    assert nanos_to_units(cost_nanos(1_000_000, 0, Decimal("999999.999999"), None)) == Decimal(
        "999999.999999"
    )


def test_an_estimate_is_marked_and_a_failure_before_any_text_used_nothing() -> None:
    target = ModelTarget(
        model_id=1, display_name="m", base_url="", api_key="", model_name="m",
        price_input=Decimal("1"), price_output=Decimal("2"),
    )  # fmt: skip
    reported = at_end(
        target, StreamStats(10, 20), prompt_estimate=99, content="ignored", reasoning=""
    )
    assert (reported.prompt_tokens, reported.completion_tokens, reported.estimated) == (
        10,
        20,
        False,
    )
    assert reported.cost_nanos == 10 * 1000 + 20 * 2000
    guessed = at_end(
        target, StreamStats(), prompt_estimate=99, content="Hello there", reasoning="Hmm"
    )
    assert guessed.estimated
    assert guessed.prompt_tokens == 99
    assert guessed.completion_tokens == count_tokens("Hello there") + count_tokens("Hmm")
    failed = at_end(target, StreamStats(), prompt_estimate=99, content="", reasoning="")
    assert (failed.total_tokens, failed.cost_nanos, failed.estimated) == (0, 0, True)


async def test_the_provider_s_usage_is_stored_with_the_cost_at_the_turn_s_prices(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url, price_input=Decimal("3"), price_output=Decimal("15"))
    provider.enqueue(ReplySpec(token_count=40, delay=0.01, first_token_delay=0.2))
    turn = await turns.start_turn(
        user_id=user.id, conversation_id=None, model=model_id, text="Four words in here"
    )
    # Prices change while the reply streams: the turn keeps those it started with.
    with session_scope() as session:
        info = catalog.get_model.within(session, actor=SYSTEM, model_id=model_id)
        catalog.update_model.within(
            session,
            actor=SYSTEM,
            model_id=model_id,
            settings=dataclasses.replace(
                catalog.ModelSettings.of(info), price_input=Decimal("100")
            ),
        )
    outcome = await turn.outcome()
    request = provider.chat_requests[-1]
    assert request.body["stream_options"] == {"include_usage": True}
    [record] = usage_records(user.id)
    # The fake counts the prompt's words and one a message (5), and the reply's tokens (40).
    assert (record.prompt_tokens, record.completion_tokens, record.estimated) == (5, 40, False)
    assert record.cost_nanos == 5 * 3000 + 40 * 15000
    assert (record.message_id, record.model_id, record.model_name) == (
        turn.reply_message_id,
        model_id,
        "fake-model",
    )
    assert outcome.usage is not None
    assert outcome.usage.cost_nanos == record.cost_nanos


@pytest.mark.parametrize("server", ["ignores", "refuses"])
async def test_without_the_provider_s_usage_the_estimate_is_stored_and_marked(
    app_db: Engine, provider: FakeProvider, server: str
) -> None:
    user = make_user()
    model_id = make_model(provider.base_url, price_input=Decimal("1"), price_output=Decimal("1"))
    if server == "ignores":
        provider.report_usage = False
    else:
        provider.refuse_stream_options = True
    provider.default = ReplySpec(text="One two three four five")
    for text in ("First question", "Second question"):
        turn = await turns.start_turn(
            user_id=user.id, conversation_id=None, model=model_id, text=text
        )
        outcome = await turn.outcome()
        assert outcome.status == MessageStatus.COMPLETE
    records = usage_records(user.id)
    assert [r.estimated for r in records] == [True, True]
    assert records[0].completion_tokens == count_tokens("One two three four five")
    assert records[0].prompt_tokens == turn.plan.prompt_tokens
    assert records[0].cost_nanos == (records[0].prompt_tokens + records[0].completion_tokens) * 1000
    if server == "refuses":
        # Asked again without the option, then remembered: three requests for two turns.
        sent = provider.chat_requests
        assert ["stream_options" in r.body for r in sent] == [True, False, False]
        assert [r.status for r in sent] == [400, 200, 200]


async def test_a_stopped_reply_and_an_unsaved_turn_are_counted(
    app_db: Engine, provider: FakeProvider
) -> None:
    user = make_user()
    make_model(provider.base_url)
    provider.enqueue(ReplySpec(token_count=400, delay=0.01), ReplySpec(text="Not kept"))
    turn = await turns.start_turn(user_id=user.id, conversation_id=None, model=None, text="Go")
    async for _batch in turn.batches():
        turn.stop()
    outcome = await turn.outcome()
    assert outcome.status == MessageStatus.STOPPED
    unsaved = await turns.start_gateway_turn(
        user_id=user.id, model="", messages=[{"role": "user", "content": "Hi"}], store=False
    )
    await unsaved.outcome()
    stopped, gateway = usage_records(user.id)
    assert stopped.estimated
    assert stopped.completion_tokens == count_tokens(outcome.content) > 0
    assert stopped.cost_nanos is None  # the model has no prices
    assert gateway.message_id is None
    assert (gateway.completion_tokens, gateway.estimated) == (2, False)
