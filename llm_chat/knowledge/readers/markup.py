"""Markdown (ATX and setext headings, pipe tables, code fences) and HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from llm_chat.knowledge.document import DocumentBuilder, DocumentError
from llm_chat.knowledge.readers.plain import decode_text

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_TABLE_RULE = re.compile(r"^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$")


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in line.split("|")]


def read_markdown(data: bytes, builder: DocumentBuilder) -> None:
    """Headings by ``#`` (or underlined), paragraphs at blank lines, pipe tables as tables."""
    lines = decode_text(data).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraph: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if paragraph:
            builder.paragraph("\n".join(paragraph))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if fence is not None:
            paragraph.append(line)
            if line.strip().startswith(fence):
                fence = None
                flush()
            continue
        if match := _FENCE.match(line):
            flush()
            fence = match.group(1)
            paragraph.append(line)
        elif match := _ATX.match(line):
            flush()
            builder.heading(match.group(2) or "", len(match.group(1)))
        elif not line.strip():
            flush()
        elif (
            len(paragraph) == 1
            and _SETEXT.match(line)
            and not paragraph[0].lstrip().startswith("|")
        ):
            builder.heading(paragraph.pop(), 1 if line.strip()[0] == "=" else 2)
        elif "|" in line and i < len(lines) and _TABLE_RULE.match(lines[i]) and "-" in lines[i]:
            flush()
            rows = [_cells(line)]
            i += 1
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            builder.table(rows)
        else:
            paragraph.append(line)
    flush()


_SKIPPED = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BREAKS = {
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "section", "article",
    "header", "footer", "main", "nav", "aside", "figure", "figcaption", "form", "hr", "address",
    "table", "caption", "body", "html", "details", "summary",
}  # fmt: skip


class _HtmlReader(HTMLParser):
    """Feeds headings, paragraphs and tables to a builder as the HTML streams by.

    Tables inside a table's cell are flattened into that cell's text.
    """

    def __init__(self, builder: DocumentBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder
        self.skip_depth = 0
        self.pre_depth = 0
        self.text: list[str] = []
        self.heading: int | None = None
        self.rows: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.nested_tables = 0

    def _flush(self) -> None:
        raw = "".join(self.text)
        self.text.clear()
        if self.pre_depth:
            text = raw
        else:
            text = "\n".join(" ".join(line.split()) for line in raw.split("\n"))
        if self.heading is not None:
            self.builder.heading(text, self.heading)
        else:
            self.builder.paragraph(text)

    def _end_cell(self) -> None:
        if self.rows is not None and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def _table_start(self, tag: str) -> None:
        assert self.rows is not None
        if tag == "table":
            self.nested_tables += 1
        elif self.nested_tables == 0 and tag == "tr":
            self._end_cell()
            if len(self.rows) >= self.builder.limits.max_rows:
                raise DocumentError("knowledge.too_large", "too many table rows")
            self.rows.append([])
        elif self.nested_tables == 0 and tag in ("td", "th"):
            self._end_cell()
            if not self.rows:
                self.rows.append([])
            self.cell = []
        elif self.cell is not None and tag in ("br", "p", "div", "li", "td", "th", "tr"):
            self.cell.append(" ")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
        elif tag == "body":  # a <head> left open ends here
            self.skip_depth = 0
        elif self.skip_depth:
            return
        elif self.rows is not None:
            self._table_start(tag)
        elif tag == "table":
            self._flush()
            self.rows, self.cell, self.nested_tables = [], None, 0
        elif tag in _HEADINGS:
            self._flush()
            self.heading = _HEADINGS[tag]
        elif tag == "pre":
            self._flush()
            self.pre_depth += 1
        elif tag in _BREAKS:
            self._flush()
        elif tag == "br":
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(self.skip_depth - 1, 0)
        elif self.skip_depth:
            return
        elif self.rows is not None:
            if tag == "table" and self.nested_tables:
                self.nested_tables -= 1
            elif tag == "table":
                self._end_table()
            elif tag in ("td", "th") and not self.nested_tables:
                self._end_cell()
        elif tag in _HEADINGS:
            self._flush()
            self.heading = None
        elif tag == "pre":
            self._flush()
            self.pre_depth = max(self.pre_depth - 1, 0)
        elif tag in _BREAKS:
            self._flush()

    def _end_table(self) -> None:
        self._end_cell()
        rows, self.rows = self.rows or [], None
        self.builder.table(rows)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.rows is None:
            self.text.append(data)
        elif self.cell is not None:
            self.cell.append(data)

    def close(self) -> None:
        super().close()
        if self.rows is not None:
            self._end_table()
        self._flush()


def read_html(data: bytes, builder: DocumentBuilder) -> None:
    """Headings h1-h6, paragraphs and tables; scripts, styles and the head are dropped."""
    reader = _HtmlReader(builder)
    reader.feed(decode_text(data))
    reader.close()
