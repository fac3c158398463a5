"""Sizes of a benchmark run: the full run of the issue, or a quick run with the same code paths."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from llm_chat.config import PROJECT_ROOT
from tests.fake_provider import GENERATED_TOKEN_BYTES, generated_tokens

#: Results and logs (``test-output/`` is git-ignored).
OUTPUT_DIR = PROJECT_ROOT / "test-output" / "bench"

#: The issue's limits.
BYTES_FACTOR = 2.0
BYTES_SLACK = 16 * 1024
SHOWN_OVERSHOOT_PCT = 3.0
FULL_SPEED_SHOWN_S = 1.0
FIRST_TOKEN_P50_ONE_USER_MS = 30.0
FIRST_TOKEN_P95_MS = 250.0
DELIVERY_MIN_PCT = 95.0
APP_CPU_FACTOR = 3.0
BROWSER_CPU_PER_1000_S = 3.0
OPEN_BIG_MS = 500.0
#: A page kept open: a reply at the last measured turn costs at most this times turn 0's.
LONG_PAGE_GROWTH = 1.2
#: The first word of a reply readable this soon after its batch reached the browser.
FIRST_WORD_MS = 30.0
IDLE_SESSION_KB = 200.0
IDLE_APP_MIB = 400.0


@dataclass(frozen=True)
class BenchConfig:
    """What one run does. ``full()`` is the issue's benchmark, ``quick()`` a small one."""

    quick: bool
    # The streamed reply of the main scenarios: tokens, seconds between them, first-token delay.
    reply_tokens: int
    token_delay: float
    first_delay: float
    # Prior turns of the conversations a reply is measured in.
    turns: tuple[int, ...]
    # First-token samples of one browser user (short replies).
    first_token_samples: int
    short_tokens: int
    short_first_delay: float
    # Concurrent browser users, and how many replies each streams (one after another).
    browser_users: int
    browser_rounds: int
    # Concurrent protocol-level users (websocket clients, no browser).
    protocol_users: int
    # Connected idle sessions for the memory measurement.
    idle_sessions: int
    # The long conversation that is opened: messages, and tokens of each reply in it.
    big_messages: int
    big_reply_tokens: int
    # Runs of the SDK baseline (the median is kept).
    sdk_runs: int
    sdk_tokens: int
    # One page kept open for many turns in a row (a new chat): turns sent in all, the turns
    # at which replies are measured, and full-speed replies measured at each (the median is
    # reported; a reply at `reply_tokens x token_delay` follows them).
    long_page_turns: int
    long_page_at: tuple[int, ...]
    long_page_samples: int

    @staticmethod
    def full() -> BenchConfig:
        """The issue's sizes: 1000-token replies, turns 0/20/50, 10 browsers, 100 users."""
        return BenchConfig(
            quick=False,
            reply_tokens=1000,
            token_delay=0.02,
            first_delay=0.3,
            turns=(0, 20, 50),
            first_token_samples=15,
            short_tokens=20,
            short_first_delay=0.2,
            browser_users=10,
            browser_rounds=2,
            protocol_users=100,
            idle_sessions=100,
            big_messages=2000,
            big_reply_tokens=200,
            sdk_runs=7,
            sdk_tokens=1000,
            long_page_turns=55,
            long_page_at=(0, 20, 50),
            long_page_samples=3,
        )

    @staticmethod
    def quick_run() -> BenchConfig:
        """Small sizes (about two minutes), the same code paths."""
        return BenchConfig(
            quick=True,
            reply_tokens=200,
            token_delay=0.02,
            first_delay=0.3,
            turns=(0, 5),
            first_token_samples=5,
            short_tokens=20,
            short_first_delay=0.2,
            browser_users=3,
            browser_rounds=1,
            protocol_users=5,
            idle_sessions=10,
            big_messages=200,
            big_reply_tokens=200,
            sdk_runs=3,
            sdk_tokens=1000,
            long_page_turns=12,
            long_page_at=(0, 8),
            long_page_samples=2,
        )

    # ------------------------------------------------------------------ models

    @property
    def stream_model(self) -> str:
        """The main scenario: ``reply_tokens`` tokens ``token_delay`` apart."""
        return f"fake?tokens={self.reply_tokens}&delay={self.token_delay}&first={self.first_delay}"

    @property
    def fast_model(self) -> str:
        """The same reply at the provider's full speed."""
        return f"fake?tokens={self.reply_tokens}"

    @property
    def short_model(self) -> str:
        """Short replies, for first-token samples."""
        return (
            f"fake?tokens={self.short_tokens}&delay={self.token_delay}"
            f"&first={self.short_first_delay}"
        )

    # ------------------------------------------------------------------ derived

    @property
    def reply_text(self) -> str:
        """The stored text of one reply (a leading space, as the provider sends it)."""
        return "".join(generated_tokens(self.reply_tokens))

    @property
    def reply_bytes(self) -> int:
        """UTF-8 bytes of one reply."""
        return self.reply_tokens * GENERATED_TOKEN_BYTES

    @property
    def bytes_limit(self) -> float:
        """Target 1: at most 2x the reply's text plus 16 KB on the wire."""
        return BYTES_FACTOR * self.reply_bytes + BYTES_SLACK

    @property
    def ideal_stream_seconds(self) -> float:
        """Target 2: ``token_count * delay + first-token delay``."""
        return self.reply_tokens * self.token_delay + self.first_delay

    def as_dict(self) -> dict[str, Any]:
        """The configuration, for the results file."""
        return asdict(self)
