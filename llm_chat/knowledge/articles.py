"""Numbered legal articles and statute headings: "第五十四条", "Article 12", "第一章".

Used by the chunker (an article is one unit) and, later, by exact reference lookup
("民法典第五十四条" -> article 54), so both read numbers the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

_CN_NUMERAL = "零〇○一二两三四五六七八九十拾百佰千仟万0-9０-９"
# "第N条" at the start of a line; not a reference such as "第三条规定的" or "第三条第二款".
_CN_ARTICLE = re.compile(
    rf"^[ \t\u3000]*(第([{_CN_NUMERAL}]+)条(?:之([一二三四五六七八九十]+))?)"
    r"(?![的规定所中至和及或与之第、，,。；;）)])",
    re.MULTILINE,
)
_EN_ARTICLE = re.compile(
    r"^[ \t]*(Article|ARTICLE|Art\.|ART\.|Section|SECTION|Sec\.|SEC\.|§§?)[ \t]*"
    r"(\d+[A-Za-z]?(?:[.\-]\d+)*|[IVXLCDM]+)\b\.?"
    # Then the end of the line, punctuation, or a capitalised word: not "Section 5 of the Act".
    r"(?=[ \t]*$|[ \t]*[.:\-\u2013\u2014)]|[ \t]+[A-Z(\"\u201c'\u2018\[])",
    re.MULTILINE,
)
_EN_WORDS = {"article": "Article", "art.": "Article", "section": "Section", "sec.": "Section"}

# Statute divisions, as headings nested under any real (styled) heading: levels 11-14.
INFERRED_LEVEL_BASE = 10
_CN_DIVISION = re.compile(rf"^[ \t\u3000]*第[{_CN_NUMERAL}]+(分编|编|章|节)(?:[ \t\u3000].*)?$")
_CN_DIVISION_RANKS = {"编": 1, "分编": 2, "章": 3, "节": 4}
_EN_DIVISION = re.compile(
    r"^[ \t]*(PART|Part|BOOK|Book|TITLE|Title|CHAPTER|Chapter|DIVISION|Division)[ \t]+"
    r"([IVXLCDM]+|\d+|[A-Z])\b(?:[ \t]*[.:\-\u2013\u2014]?[ \t]*(?:[A-Z(\"\u201c].*)?)?$"
)
_EN_DIVISION_RANKS = {"part": 1, "book": 1, "title": 1, "chapter": 3, "division": 4}


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """An article's label as written ("第五十四条", "Article 12") and its number if whole."""

    label: str
    number: int | None
    # Where the label ends in the text it was found in.
    end: int


def chinese_number(text: str) -> int | None:
    """A number in Chinese numerals or digits: "一百二十三" -> 123, "十" -> 10.

    Digits (ASCII or full-width) are read too, and Chinese digits without units positionally
    ("二〇二三" -> 2023). None if ``text`` is not a number.
    """
    text = text.strip()
    if not text:
        return None
    if text.isdecimal():
        return int(text)
    if all(ch in _CN_DIGITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total = section = 0
    digit: int | None = None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch in _CN_BIG:
            total += (section + (digit or 0)) * _CN_BIG[ch]
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def roman_number(text: str) -> int | None:
    """A Roman numeral in capitals: "XII" -> 12; None if ``text`` is not one."""
    if not text or not _ROMAN.match(text):
        return None
    values = [_ROMAN_VALUES[ch] for ch in text]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _number(text: str) -> int | None:
    return int(text) if text.isdecimal() else roman_number(text)


def match_article(text: str, pos: int = 0) -> ArticleRef | None:
    """The article label starting the line at ``pos`` of ``text``, if there is one."""
    if match := _CN_ARTICLE.match(text, pos):
        return ArticleRef(match.group(1), chinese_number(match.group(2)), match.end(1))
    if match := _EN_ARTICLE.match(text, pos):
        word = match.group(1)
        word = _EN_WORDS.get(word.lower(), "§" if word.startswith("§") else word)
        label = f"{word} {match.group(2)}"
        return ArticleRef(label, _number(match.group(2)), match.end(2))
    return None


def parse_article_number(label: str) -> int | None:
    """The number of an article label: "第一百二十三条" -> 123, "Article XII" -> 12, "§ 5" -> 5.

    A bare number ("54", "五十四") is read too. None when there is no whole number
    ("Section 3.2").
    """
    ref = match_article(label.strip())
    if ref is not None:
        return ref.number
    return chinese_number(label)


def division_level(line: str) -> int | None:
    """The inferred heading level of a statute division line ("第一章 基本规定", "Part I").

    Levels start above :data:`INFERRED_LEVEL_BASE` so a styled heading (1-6) contains them.
    """
    if len(line) > 80 or "。" in line:
        return None
    if match := _CN_DIVISION.match(line):
        return INFERRED_LEVEL_BASE + _CN_DIVISION_RANKS[match.group(1)]
    if match := _EN_DIVISION.match(line):
        return INFERRED_LEVEL_BASE + _EN_DIVISION_RANKS[match.group(1).lower()]
    return None
