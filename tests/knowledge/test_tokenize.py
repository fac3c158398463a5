import tempfile
from pathlib import Path

import pytest

from llm_chat.knowledge.tokenize import chinese_number, references, tokens


@pytest.mark.parametrize("word", ["违约", "合同"])
def test_two_character_words_meet_in_query_and_passage(word: str) -> None:
    passage = "当事人一方不履行合同义务或者履行合同义务不符合约定的，应当承担违约责任，支付违约金。"
    query = f"{word}怎么处理？"
    assert word in tokens(passage)
    assert word in tokens(query)


def test_statute_references_match_however_written() -> None:
    passage = "《中华人民共和国民法典》第五十四条 自然人从事工商业经营……"
    for query in ("民法典第五十四条", "民法典第54条是什么", "民法典 第５４条", "Article 54"):
        assert "第54条" in tokens(query)
    assert "第54条" in tokens(passage)
    assert set(tokens("民法典第五十四条")) & set(tokens(passage)) >= {"民法典", "第54条"}


def test_chinese_numbers() -> None:
    assert chinese_number("五十四") == 54
    assert chinese_number("十") == 10
    assert chinese_number("一百零三") == 103
    assert chinese_number("两千") == 2000
    assert chinese_number("1260") == 1260
    assert chinese_number("第") is None
    assert references("第一千二百六十条和第3章") == ["第1260条", "第3章"]


def test_latin_words_numbers_and_full_width_forms() -> None:
    assert tokens("Hello, World! GPT-4o ＡＢＣ１２") == ["hello", "world", "gpt", "4o", "abc12"]


def test_bigrams_can_be_turned_off() -> None:
    with_bigrams = tokens("国际贸易术语")
    without = tokens("国际贸易术语", bigrams=False)
    assert "际贸" in with_bigrams
    assert "际贸" not in without
    assert "国际贸易" in without


def test_no_cache_left_in_the_shared_temp_dir() -> None:
    tokens("初始化")
    assert not list(Path(tempfile.gettempdir()).glob("llm-chat-jieba-*"))
