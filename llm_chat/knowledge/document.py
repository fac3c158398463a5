"""A parsed document: its blocks in order and the plain text they point into.

Every block records where its text sits in :attr:`ParsedDocument.text` (``char_start`` to
``char_end``), so a chunk, and later a citation, can point back to the exact passage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from llm_chat.errors import ValidationError

BlockKind = Literal["heading", "paragraph", "table"]
Format = Literal["pdf", "docx", "xlsx", "csv", "html", "markdown", "txt"]

# Blocks are joined by a blank line in the document's text; a table's cells by this.
BLOCK_SEPARATOR = "\n\n"
CELL_SEPARATOR = " | "


class DocumentError(ValidationError):
    """A document that cannot be read; ``code`` (``knowledge.*``) says why.

    Codes: ``knowledge.unsupported_type``, ``knowledge.too_large``, ``knowledge.empty``,
    ``knowledge.no_text`` (e.g. a scanned PDF), ``knowledge.encrypted``, ``knowledge.corrupt``.
    """

    code = "knowledge.corrupt"


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Caps that keep a hostile file from taking the memory or the time of the process."""

    # Declared uncompressed size of all members of a DOCX/XLSX (zip bombs); Python's zipfile
    # never inflates a member past its declared size, so checking the declaration holds.
    max_unzipped_bytes: int = 200 * 1024 * 1024
    max_zip_members: int = 5_000
    max_pages: int = 3_000
    max_rows: int = 200_000
    # Extracted text (~4 bytes a character at worst in memory).
    max_chars: int = 20_000_000


@dataclass(frozen=True, slots=True)
class Block:
    """A heading, a paragraph or a table, with its place in the document's text.

    A table's ``text`` is its header line then one line per row, cells joined by
    :data:`CELL_SEPARATOR`; ``header_span`` and ``row_spans`` locate each line.
    """

    kind: BlockKind
    text: str
    char_start: int
    char_end: int
    # 1 to 6 for headings, 0 for the rest.
    level: int = 0
    # 1-based page (PDF only).
    page: int | None = None
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    header_span: tuple[int, int] = (0, 0)
    row_spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A document's blocks in reading order and its extracted plain text."""

    name: str
    format: Format
    blocks: tuple[Block, ...]
    text: str
    page_count: int | None = None


def clean_text(text: str) -> str:
    """``text`` with Windows/Mac line ends made ``\\n`` and control characters dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        text = "".join(c for c in text if ord(c) >= 32 or c in "\n\t")
    return text.replace("\u00a0", " ").strip()


def cell_text(value: object) -> str:
    """One table cell as a single line."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(str(value))
    return " ".join(text.split()) if "\n" in text or "\t" in text else text


@dataclass
class DocumentBuilder:
    """Collects blocks and their text, keeping offsets and the character limit."""

    name: str
    format: Format
    limits: ParseLimits
    _blocks: list[Block] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _length: int = 0

    @property
    def blocks(self) -> tuple[Block, ...]:
        """The blocks added so far."""
        return tuple(self._blocks)

    def _place(self, text: str) -> int:
        """Append ``text`` to the document's text; return where it starts."""
        if self._parts:
            self._parts.append(BLOCK_SEPARATOR)
            self._length += len(BLOCK_SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        if self._length > self.limits.max_chars:
            raise DocumentError(
                "knowledge.too_large", f"more than {self.limits.max_chars} characters of text"
            )
        return start

    def heading(self, text: str, level: int, *, page: int | None = None) -> None:
        """Add a heading (levels outside 1-6 are clamped)."""
        text = " ".join(clean_text(text).split())
        if text:
            start = self._place(text)
            level = min(max(level, 1), 6)
            self._blocks.append(Block("heading", text, start, start + len(text), level, page))

    def paragraph(self, text: str, *, page: int | None = None) -> None:
        """Add a paragraph; its inner line breaks are kept (a PDF's or a plain file's)."""
        text = clean_text(text)
        if text:
            start = self._place(text)
            self._blocks.append(Block("paragraph", text, start, start + len(text), page=page))

    def table(self, rows: list[list[str]], *, page: int | None = None) -> None:
        """Add a table: its first non-empty row is the header, the others its rows."""
        lines = [[cell_text(c) for c in row] for row in rows]
        lines = [row for row in lines if any(row)]
        if not lines:
            return
        header, *body = (tuple(row) for row in lines)
        rendered = [CELL_SEPARATOR.join(row) for row in (header, *body)]
        text = "\n".join(rendered)
        start = self._place(text)
        spans: list[tuple[int, int]] = []
        position = start
        for line in rendered:
            spans.append((position, position + len(line)))
            position += len(line) + 1
        self._blocks.append(
            Block(
                "table",
                text,
                start,
                start + len(text),
                page=page,
                header=header,
                rows=tuple(body),
                header_span=spans[0],
                row_spans=tuple(spans[1:]),
            )
        )

    def build(self, *, page_count: int | None = None) -> ParsedDocument:
        """The document, or ``knowledge.no_text`` when nothing readable was found."""
        if not self._blocks:
            raise DocumentError("knowledge.no_text", "no text could be extracted")
        return ParsedDocument(
            self.name, self.format, tuple(self._blocks), "".join(self._parts), page_count
        )
