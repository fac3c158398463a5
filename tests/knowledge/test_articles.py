"""Article numbers in Chinese numerals, Arabic and Roman digits; statute division lines."""

from __future__ import annotations

import pytest

from llm_chat.knowledge.articles import (
    INFERRED_LEVEL_BASE,
    chinese_number,
    division_level,
    match_article,
    parse_article_number,
    roman_number,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("五十四", 54), ("一百", 100),
        ("一百零三", 103), ("一百一十", 110), ("一百二十三", 123), ("两千", 2000),
        ("一千二百六十", 1260), ("一万零五", 10005), ("二〇二三", 2023), ("123", 123),
        ("１２３", 123),
    ],
)  # fmt: skip
def test_chinese_numbers(text: str, number: int) -> None:
    assert chinese_number(text) == number


def test_not_numbers() -> None:
    assert chinese_number("") is None
    assert chinese_number("总则") is None
    assert roman_number("IIII") is None
    assert roman_number("") is None


@pytest.mark.parametrize(
    ("label", "number"),
    [
        ("第一百二十三条", 123), ("第五十四条", 54), ("第十条", 10), ("第1260条", 1260),
        ("第一百二十条之一", 120), ("Article 12", 12), ("ARTICLE 7.", 7), ("Art. 5", 5),
        ("Article XII", 12), ("Section 5", 5), ("§ 5", 5), ("§5", 5), ("五十四", 54),
        ("Section 3.2", None), ("Article 12a", None),
    ],
)  # fmt: skip
def test_parse_article_number(label: str, number: int | None) -> None:
    assert parse_article_number(label) == number


def test_article_labels_at_line_starts() -> None:
    ref = match_article("第一百二十条之一　以暴力方法……")
    assert ref is not None
    assert (ref.label, ref.number) == ("第一百二十条之一", 120)
    ref = match_article("Article 12. Definitions")
    assert ref is not None
    assert (ref.label, ref.number) == ("Article 12", 12)
    ref = match_article("§ 101 Short title")
    assert ref is not None
    assert ref.label == "§ 101"


@pytest.mark.parametrize(
    "line",
    [
        "第三条规定的权利受法律保护。",
        "第三条第二款所称的组织",
        "第五条、第六条的规定",
        "Section 5 of this Act applies.",
        "Articles of association",
        "依照本法第十条",
    ],
)
def test_references_inside_prose_are_not_articles(line: str) -> None:
    assert match_article(line) is None


def test_division_levels() -> None:
    base = INFERRED_LEVEL_BASE
    assert division_level("第一编 总则") == base + 1
    assert division_level("第一分编 通则") == base + 2
    assert division_level("第三章　法人") == base + 3
    assert division_level("第二节 监护") == base + 4
    assert division_level("Part II — Obligations") == base + 1
    assert division_level("CHAPTER 3") == base + 3
    assert division_level("第一章规定了民事主体的权利。") is None
    assert division_level("Part 2 of the agreement is void") is None
