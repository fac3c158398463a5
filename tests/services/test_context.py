"""Fitting a conversation into a model's context window."""

from __future__ import annotations

from typing import Literal

import pytest

from llm_chat.errors import ValidationError
from llm_chat.providers.client import ChatMessage
from llm_chat.services.context import (
    MESSAGE_OVERHEAD,
    REPLY_PRIMING,
    ContextFit,
    count_tokens,
    fit_context,
    message_tokens,
    reserve_for,
)

# 400 ASCII characters: 100 tokens, 104 as a message.
WORDS = "word " * 80


def _msg(role: Literal["system", "user", "assistant"], content: str) -> ChatMessage:
    return {"role": role, "content": content}


def _turns(count: int) -> list[ChatMessage]:
    """``count`` question/answer pairs, oldest first, each message 104 tokens."""
    history: list[ChatMessage] = []
    for i in range(count):
        history.append(_msg("user", f"{i:04d}q" + WORDS[5:]))
        history.append(_msg("assistant", f"{i:04d}a" + WORDS[5:]))
    return history


def _fit(
    history: list[ChatMessage], window: int, *, system: str = "", question: str = "hi"
) -> ContextFit:
    return fit_context(
        system_prompt=system,
        history=history,
        question=_msg("user", question),
        context_window=window,
        reserve_output=0,
    )


def test_ascii_counts_four_characters_a_token_rounded_up() -> None:
    assert count_tokens("") == 0
    assert count_tokens("abcd") == 1
    assert count_tokens("abcde") == 2
    assert count_tokens(WORDS) == 100
    assert message_tokens(_msg("user", WORDS)) == 100 + MESSAGE_OVERHEAD


def test_chinese_counts_a_token_a_character() -> None:
    chinese = "上下文窗口决定了模型一次能读多少内容。"  # 19 characters, full stop included
    assert count_tokens(chinese) == 19
    # The same meaning in English costs fewer tokens per character, more characters.
    english = "The context window sets how much the model can read at once."
    assert count_tokens(english) == 15
    assert count_tokens(chinese * 100) == 1900


def test_mixed_text_line_breaks_and_other_scripts() -> None:
    assert count_tokens("用 Python 写") == 4  # 2 Hanzi, 8 narrow characters
    assert count_tokens("a\nb\nc") == 3  # a line break is a token of its own
    assert count_tokens("\n" * 10) == 10
    assert count_tokens("привет") == 4  # 2-byte letters count 0.625 each
    assert count_tokens("👍") == 2  # emoji count 1.375
    assert count_tokens("\ud800") == 1  # a lone surrogate (from JSON) does not raise


def test_counting_is_deterministic() -> None:
    text = "混合 mixed 文本\n" * 500
    assert len({count_tokens(text) for _ in range(5)}) == 1


def test_everything_is_kept_when_it_fits() -> None:
    history = _turns(3)
    fit = _fit(history, 10_000, system="Be brief.")
    assert fit.dropped == 0
    assert fit.messages == [_msg("system", "Be brief."), *history, _msg("user", "hi")]
    expected = sum(message_tokens(m) for m in fit.messages) + REPLY_PRIMING
    assert fit.prompt_tokens == expected


def test_oldest_messages_are_dropped_first_and_the_budget_holds() -> None:
    history = _turns(10)  # 20 messages of 104 tokens
    question = message_tokens(_msg("user", "hi")) + REPLY_PRIMING
    fit = _fit(history, question + 6 * 104)
    assert fit.dropped == 14
    assert fit.messages[:-1] == history[14:]
    assert fit.prompt_tokens == question + 6 * 104
    fit = _fit(history, question + 6 * 104 - 1)  # one token short: a whole turn goes
    assert fit.dropped == 16
    assert fit.messages[:-1] == history[16:]
    assert fit.prompt_tokens <= question + 6 * 104 - 1


def test_a_reply_never_opens_the_kept_history() -> None:
    history = _turns(10)
    question = message_tokens(_msg("user", "hi")) + REPLY_PRIMING
    fit = _fit(history, question + 5 * 104)  # room for 5 messages: 2 whole turns are kept
    assert fit.dropped == 16
    assert fit.messages[0] == history[16]
    assert fit.messages[0]["role"] == "user"
    assert fit.prompt_tokens == question + 4 * 104


def test_a_history_that_opens_with_a_reply_is_kept_whole_when_it_fits() -> None:
    history = [_msg("assistant", "Hello! Ask me anything."), *_turns(2)]
    assert _fit(history, 10_000).messages[:-1] == history


def test_system_prompt_and_question_are_kept_when_no_history_fits() -> None:
    history = _turns(5)
    fixed = (
        message_tokens(_msg("system", WORDS)) + message_tokens(_msg("user", WORDS)) + REPLY_PRIMING
    )
    fit = _fit(history, fixed + 103, system=WORDS, question=WORDS)
    assert fit.dropped == 10
    assert fit.messages == [_msg("system", WORDS), _msg("user", WORDS)]
    assert fit.prompt_tokens == fixed


def test_a_blank_system_prompt_is_not_sent() -> None:
    fit = _fit(_turns(1), 10_000, system="  \n")
    assert [m["role"] for m in fit.messages] == ["user", "assistant", "user"]


def test_the_reply_reserve_comes_out_of_the_budget() -> None:
    history = _turns(10)
    question = message_tokens(_msg("user", "hi")) + REPLY_PRIMING
    fit = fit_context(
        system_prompt="",
        history=history,
        question=_msg("user", "hi"),
        context_window=question + 4 * 104 + 1000,
        reserve_output=1000,
    )
    assert fit.dropped == 16


def test_a_question_too_long_for_the_model_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        fit_context(
            system_prompt="Be brief.",
            history=_turns(2),
            question=_msg("user", WORDS * 100),  # 10,000 tokens
            context_window=8_192,
            reserve_output=2_048,
        )
    assert caught.value.code == "chat.message_too_long_for_model"


def test_a_question_that_fits_only_without_history_is_sent_alone() -> None:
    question = _msg("user", WORDS * 60)  # 6,000 tokens: room for one reply, not its question
    fit = fit_context(
        system_prompt="",
        history=_turns(20),
        question=question,
        context_window=8_192,
        reserve_output=2_048,
    )
    assert fit.messages == [question]
    assert fit.dropped == 40


def test_chinese_history_fills_the_window_faster_than_english() -> None:
    english = [_msg("user", "How are you? " * 40), _msg("assistant", "Fine, thanks. " * 40)] * 50
    chinese = [_msg("user", "你好吗？" * 40), _msg("assistant", "很好，谢谢。" * 40)] * 50
    kept_english = len(_fit(english, 8_192).messages)
    kept_chinese = len(_fit(chinese, 8_192).messages)
    assert kept_chinese < kept_english


@pytest.mark.parametrize(
    ("window", "max_tokens", "reserve"),
    [
        (128_000, None, 4_096),
        (8_192, None, 2_048),
        (4_096, None, 1_024),
        (128_000, 1_000, 1_000),
        (4_096, 8_192, 2_048),  # a max_tokens over the window leaves half for the prompt
    ],
)
def test_reserve_for_the_reply(window: int, max_tokens: int | None, reserve: int) -> None:
    assert reserve_for(window, max_tokens) == reserve
