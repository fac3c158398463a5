"""Cut a parsed document into chunks that keep its structure, for embedding and citation.

- Every chunk carries its heading path: styled headings, and statute divisions found in
  plain text ("第一编 总则", "第一章 基本规定", "Part I", "Chapter 2").
- A numbered article ("第五十四条", "第一百二十条之一", "Article 12", "Section 5", "§ 5" at
  the start of a line or a heading) is one chunk of its own, never merged with another, so
  an exact reference finds exactly it. One longer than ``max_chars`` is cut at sentence ends
  into parts that keep its label in their heading path and carry a part number.
- Other text fills a chunk up to ``max_chars``; longer runs are cut nearest ``target_chars``
  at the strongest boundary available: a blank line, a sentence end (Chinese full
  stop, exclamation, question mark or semicolon; English . ! ?), a
  clause, a line break, a space; mid-word only when there is none.
- A table's rows are grouped and each group repeats the header line.
- ``char_start``/``char_end`` locate the chunk in ``doc.text`` (for a table chunk, its rows),
  and ``page``/``page_end`` its first and last page (PDF).

Lengths are in characters, so Chinese (no spaces) and English are measured alike.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Literal

from llm_chat.knowledge.articles import ArticleRef, division_level, match_article
from llm_chat.knowledge.document import Block, ParsedDocument

_BOUNDARY = re.compile(
    r"(?P<paragraph>\n[ \t\u3000]*\n)"
    r"|(?P<sentence>(?:[。！？；!?]|\.(?=[\s\"'”’)\]]|$)|…+)[\"'”’」』）)\]]*)"
    r"|(?P<clause>[，、：,:;])"
    r"|(?P<line>\n)"
    r"|(?P<space>[ \t\u3000]+)"
)
_STRENGTH = {"paragraph": 0, "sentence": 1, "clause": 2, "line": 3, "space": 4}


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage to embed and cite, with where it came from."""

    index: int
    text: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    page: int | None
    page_end: int | None
    kind: Literal["text", "table"] = "text"
    # "第五十四条" / "Article 12" and its number (None for "Section 3.2").
    article_label: str | None = None
    article_number: int | None = None
    # 1-based part of an article cut in several, and how many parts it has.
    part: int | None = None
    part_count: int | None = None

    def context_text(self) -> str:
        """The text with its heading path on a first line (what an embedder should see)."""
        return " > ".join(self.heading_path) + "\n" + self.text if self.heading_path else self.text


def split_span(
    text: str, start: int, end: int, *, target_chars: int, max_chars: int
) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into spans of at most ``max_chars``, trimmed of blanks."""
    cuts = [
        (m.end(), _STRENGTH[m.lastgroup or "space"]) for m in _BOUNDARY.finditer(text, start, end)
    ]
    positions = [pos for pos, _ in cuts]
    spans: list[tuple[int, int]] = []
    pos = _skip_blank(text, start, end)
    while end - pos > max_chars:
        low = bisect.bisect_left(positions, pos + max(1, target_chars // 3))
        high = bisect.bisect_right(positions, pos + max_chars)
        window = cuts[low:high]
        cut = pos + max_chars
        for strength in range(len(_STRENGTH)):
            candidates = [p for p, s in window if s <= strength]
            if candidates:
                cut = min(candidates, key=lambda p: abs(p - (pos + target_chars)))
                break
        spans.append(_trim(text, pos, cut))
        pos = _skip_blank(text, cut, end)
    if pos < end:
        spans.append(_trim(text, pos, end))
    return [(s, e) for s, e in spans if e > s]


def _skip_blank(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass
class _Unit:
    """Text being gathered: a run of prose, or one article."""

    start: int
    end: int
    path: tuple[str, ...]
    # (offset, page) where each gathered line begins.
    pages: list[tuple[int, int | None]] = field(default_factory=list)
    article: ArticleRef | None = None
    # The level of the heading the article is, if it is one (sub-headings stay inside).
    heading_level: int | None = None

    def page_at(self, offset: int) -> int | None:
        index = bisect.bisect_right([o for o, _ in self.pages], offset) - 1
        return self.pages[max(index, 0)][1]


@dataclass
class _Chunker:
    doc: ParsedDocument
    target_chars: int
    max_chars: int
    chunks: list[Chunk] = field(default_factory=list)
    stack: list[tuple[int, str]] = field(default_factory=list)
    unit: _Unit | None = None

    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.stack)

    def push_heading(self, level: int, title: str) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, title))

    def add(self, chunk: Chunk) -> None:
        self.chunks.append(chunk)

    def close(self) -> None:
        unit, self.unit = self.unit, None
        if unit is None:
            return
        text = self.doc.text
        if unit.article is None:
            spans = split_span(
                text, unit.start, unit.end, target_chars=self.target_chars, max_chars=self.max_chars
            )
        elif unit.end - unit.start <= self.max_chars:
            spans = [_trim(text, unit.start, unit.end)]
        else:
            spans = split_span(
                text, unit.start, unit.end, target_chars=self.target_chars, max_chars=self.max_chars
            )
        ref = unit.article
        path = unit.path
        if ref is not None and unit.heading_level is None:
            path = (*path, ref.label)
        for number, (start, end) in enumerate(spans, start=1):
            self.add(
                Chunk(
                    index=len(self.chunks),
                    text=text[start:end],
                    heading_path=path,
                    char_start=start,
                    char_end=end,
                    page=unit.page_at(start),
                    page_end=unit.page_at(end - 1),
                    article_label=ref.label if ref else None,
                    article_number=ref.number if ref else None,
                    part=number if ref and len(spans) > 1 else None,
                    part_count=len(spans) if ref and len(spans) > 1 else None,
                )
            )

    def heading(self, block: Block) -> None:
        unit = self.unit
        inside_article = (
            unit is not None and unit.heading_level is not None and block.level > unit.heading_level
        )
        if inside_article:
            assert unit is not None
            unit.end = block.char_end
            unit.pages.append((block.char_start, block.page))
            return
        self.close()
        self.push_heading(block.level, block.text)
        ref = match_article(block.text)
        if ref is not None:
            self.unit = _Unit(
                block.char_start, block.char_end, self.path(), [(block.char_start, block.page)],
                article=ref, heading_level=block.level,
            )  # fmt: skip

    def line(self, start: int, end: int, page: int | None) -> None:
        line = self.doc.text[start:end]
        if not line.strip():
            return
        level = division_level(line)
        if level is not None:
            self.close()
            self.push_heading(level, " ".join(line.split()))
            return
        ref = match_article(line)
        if ref is not None:
            self.close()
            self.unit = _Unit(start, end, self.path(), [(start, page)], article=ref)
            return
        if self.unit is None:
            self.unit = _Unit(start, end, self.path())
        self.unit.end = end
        self.unit.pages.append((start, page))

    def paragraph(self, block: Block) -> None:
        start = block.char_start
        for line in block.text.split("\n"):
            self.line(start, start + len(line), block.page)
            start += len(line) + 1

    def table(self, block: Block) -> None:
        self.close()
        text = self.doc.text
        header = text[block.header_span[0] : block.header_span[1]]
        if not block.row_spans:
            self._table_chunk(header, [block.header_span], block.page, header_only=True)
            return
        budget = max(self.max_chars - len(header) - 1, 200)
        group: list[tuple[int, int]] = []
        size = 0
        for start, end in block.row_spans:
            if group and (size + end - start + 1 > budget or size >= self.target_chars):
                self._table_chunk(header, group, block.page)
                group, size = [], 0
            if end - start > budget:
                target = max(self.target_chars - len(header), 100)
                for piece in split_span(text, start, end, target_chars=target, max_chars=budget):
                    self._table_chunk(header, [piece], block.page)
                continue
            group.append((start, end))
            size += end - start + 1
        if group:
            self._table_chunk(header, group, block.page)

    def _table_chunk(
        self,
        header: str,
        rows: list[tuple[int, int]],
        page: int | None,
        *,
        header_only: bool = False,
    ) -> None:
        start, end = rows[0][0], rows[-1][1]
        body = self.doc.text[start:end]
        self.add(
            Chunk(
                index=len(self.chunks),
                text=header if header_only else f"{header}\n{body}",
                heading_path=self.path(),
                char_start=start,
                char_end=end,
                page=page,
                page_end=page,
                kind="table",
            )
        )


def chunk_document(
    doc: ParsedDocument, *, target_chars: int = 600, max_chars: int = 1200
) -> list[Chunk]:
    """Chunks of ``doc`` in reading order (see the module's docstring for the rules)."""
    if not 0 < target_chars <= max_chars:
        raise ValueError("need 0 < target_chars <= max_chars")
    chunker = _Chunker(doc, target_chars, max_chars)
    for block in doc.blocks:
        if block.kind == "heading":
            chunker.heading(block)
        elif block.kind == "table":
            chunker.table(block)
        else:
            chunker.paragraph(block)
    chunker.close()
    return chunker.chunks
