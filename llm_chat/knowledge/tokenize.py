"""Chinese-aware tokens for BM25: jieba words, CJK character bigrams, and Latin words and numbers.

Databases' full-text tokenisers miss two-character Chinese words (MariaDB's InnoDB FULLTEXT and
SQLite's FTS5 trigram do not find 违约). Here a text gives, after NFKC (full-width letters and
digits become ASCII) and lower-casing:

- jieba's search-mode words for each CJK run (违约金 gives 违约 and 违约金), which IDF weights well;
- every character bigram of each CJK run, which finds words jieba's dictionary splits otherwise;
- Latin words and numbers, as they are;
- one canonical token per legal reference, ``第54条`` for 第五十四条, 第54条 and "Article 54", so
  a question and a statute written differently still meet.

jieba builds its prefix dictionary once per process (about a second) from the dictionary in its
wheel. Its cache normally goes to a shared ``/tmp/jieba.cache`` that any local user could plant:
ours is written to a private temporary directory, removed once loaded.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Iterator

import jieba

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(r"[^\W_]+")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_REFERENCE = re.compile(r"第\s*([零〇一二两三四五六七八九十百千万\d]+)\s*(条|章|节|款|项|编)")
_ARTICLE = re.compile(r"\b(?:article|art\.)\s*(\d+)\b")

_tokenizer: jieba.Tokenizer | None = None
_lock = threading.Lock()


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            cache_dir = tempfile.mkdtemp(prefix="llm-chat-jieba-")
            try:
                tokenizer.tmp_dir = cache_dir  # pyright: ignore[reportAttributeAccessIssue]
                tokenizer.initialize()
            finally:
                shutil.rmtree(cache_dir, ignore_errors=True)
            _tokenizer = tokenizer
        return _tokenizer


def chinese_number(text: str) -> int | None:
    """Reads 五十四, 一百零三, 两千 or 54 as an integer; None when it is neither."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[char]
            current = 0
        else:
            return None
    return total + current


def references(text: str) -> list[str]:
    """The canonical tokens of legal references in ``text`` (NFKC, lower-cased): ``第54条``."""
    found: list[str] = []
    for match in _REFERENCE.finditer(text):
        number = chinese_number(match.group(1))
        if number is not None:
            found.append(f"第{number}{match.group(2)}")
    found.extend(f"第{int(match.group(1))}条" for match in _ARTICLE.finditer(text))
    return found


def _cjk_tokens(run: str, tokenizer: jieba.Tokenizer, bigrams: bool) -> Iterator[str]:
    yield from tokenizer.cut_for_search(run)
    if bigrams and len(run) >= 2:
        for i in range(len(run) - 1):
            yield run[i : i + 2]


def tokens(text: str, *, bigrams: bool = True) -> list[str]:
    """The BM25 tokens of ``text``; the same function serves passages and queries."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokenizer = _jieba()
    result: list[str] = []
    position = 0
    for run in _CJK_RUN.finditer(text):
        result.extend(_WORD.findall(text, position, run.start()))
        result.extend(_cjk_tokens(run.group(), tokenizer, bigrams))
        position = run.end()
    result.extend(_WORD.findall(text, position))
    result.extend(references(text))
    return result
