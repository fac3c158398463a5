"""A turn's tokens and cost: the provider's counts, else an estimate, at the model's prices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from llm_chat.models.usage import NANOS_PER_UNIT
from llm_chat.providers import ModelTarget, StreamStats
from llm_chat.services.context import count_tokens

# Prices are per million tokens.
TOKENS_PER_PRICE = 1_000_000
_NANOS_PER_PRICED_TOKEN = Decimal(NANOS_PER_UNIT) / TOKENS_PER_PRICE


@dataclass(frozen=True)
class TurnUsage:
    """What one turn used."""

    prompt_tokens: int
    completion_tokens: int
    # True when the app counted (some of) it: the provider reported no usage.
    estimated: bool
    # In nano-units of the price's currency; None when the model has no prices.
    cost_nanos: int | None

    @property
    def total_tokens(self) -> int:
        """Prompt and completion together."""
        return self.prompt_tokens + self.completion_tokens


def cost_nanos(
    prompt_tokens: int,
    completion_tokens: int,
    price_input: Decimal | None,
    price_output: Decimal | None,
) -> int | None:
    """What the tokens cost at prices per million tokens, in nano-units (half to even).

    None when the model has neither price; a missing one of the two counts as free.
    """
    if price_input is None and price_output is None:
        return None
    total = prompt_tokens * (price_input or Decimal(0)) + completion_tokens * (
        price_output or Decimal(0)
    )
    return int((total * _NANOS_PER_PRICED_TOKEN).to_integral_value(ROUND_HALF_EVEN))


def nanos_to_units(nanos: int | None) -> Decimal:
    """Nano-units as an amount of the currency (0 for None)."""
    return Decimal(nanos or 0) / NANOS_PER_UNIT


def at_start(target: ModelTarget, prompt_estimate: int) -> TurnUsage:
    """A turn just started: its prompt as estimated, nothing written yet."""
    return TurnUsage(
        prompt_tokens=prompt_estimate,
        completion_tokens=0,
        estimated=True,
        cost_nanos=cost_nanos(prompt_estimate, 0, target.price_input, target.price_output),
    )


def at_end(
    target: ModelTarget,
    stats: StreamStats,
    *,
    prompt_estimate: int,
    content: str,
    reasoning: str,
) -> TurnUsage:
    """A reply that ended: the provider's counts where it reported them, else estimates
    (the prompt as planned, the reply from its text and reasoning).

    A reply that said nothing and has no counts (the provider failed first) used nothing.
    """
    prompt, completion = stats.prompt_tokens, stats.completion_tokens
    estimated = prompt is None or completion is None
    if estimated and not (content or reasoning) and prompt is None:
        prompt, completion = 0, 0
    if prompt is None:
        prompt = prompt_estimate
    if completion is None:
        completion = count_tokens(content) + count_tokens(reasoning)
    return TurnUsage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        estimated=estimated,
        cost_nanos=cost_nanos(prompt, completion, target.price_input, target.price_output),
    )
