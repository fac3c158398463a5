"""DOCX (python-docx) and XLSX (openpyxl), read after ``parsing`` checked the zip's sizes.

Their libraries' own errors on a damaged file are many kinds: ``parse_document`` turns
whatever escapes into ``knowledge.corrupt``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from typing import Any

import docx
import openpyxl
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from llm_chat.knowledge.document import DocumentBuilder, DocumentError

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def _outline_level(element: Any) -> int | None:
    """The ``w:outlineLvl`` (0-8) of a paragraph's or a style's properties, as 1-9."""
    ppr = element.find(qn("w:pPr")) if element is not None else None
    level = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    if level is None:
        return None
    value = level.get(qn("w:val"))
    # 9 means body text.
    return int(value) + 1 if value is not None and value.isdigit() and int(value) < 9 else None


def heading_level(paragraph: Paragraph) -> int:
    """The paragraph's heading level (1-6), 0 for body text.

    From its style ("Heading N", "Title", or a localised one based on them) or the outline
    level set on the paragraph or its styles, as Word's navigation pane reads it.
    """
    level = _outline_level(paragraph._p)
    if level is not None:
        return min(level, 6)
    style = paragraph.style
    for _ in range(10):  # a style's base chain; a cycle stops here
        if style is None:
            break
        name = (style.name or "").strip()
        if match := _HEADING_STYLE.match(name):
            return min(max(int(match.group(1)), 1), 6)
        if name.lower() == "title":
            return 1
        level = _outline_level(style.element)
        if level is not None:
            return min(level, 6)
        style = getattr(style, "base_style", None)
    return 0


def read_docx(data: bytes, builder: DocumentBuilder) -> None:
    """Paragraphs with heading levels from their styles; tables as header + rows."""
    document = docx.Document(io.BytesIO(data))
    rows_seen = 0
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            level = heading_level(item)
            if level:
                builder.heading(item.text, level)
            else:
                builder.paragraph(item.text)
        elif isinstance(item, Table):
            rows: list[list[str]] = []
            for row in item.rows:
                rows_seen += 1
                if rows_seen > builder.limits.max_rows:
                    raise DocumentError(
                        "knowledge.too_large", f"more than {builder.limits.max_rows} table rows"
                    )
                cells: list[str] = []
                previous: object = None
                for cell in row.cells:
                    # A merged cell comes back once per grid column it spans.
                    if cell._tc is not previous:
                        cells.append(cell.text)
                    previous = cell._tc
                rows.append(cells)
            builder.table(rows)


def _xlsx_value(value: object) -> object:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def read_xlsx(data: bytes, builder: DocumentBuilder) -> None:
    """Each non-empty sheet as a heading (its name) and a table (its first row the header).

    Cached values are read, not formulas: a workbook saved by Excel holds both.
    """
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; none matter for text.
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows_seen = 0
            for sheet in book.worksheets:
                rows: list[list[object]] = []
                for row in sheet.iter_rows(values_only=True):
                    rows_seen += 1
                    if rows_seen > builder.limits.max_rows:
                        raise DocumentError(
                            "knowledge.too_large", f"more than {builder.limits.max_rows} rows"
                        )
                    cells = [_xlsx_value(v) for v in row]
                    while cells and cells[-1] in (None, ""):
                        cells.pop()
                    if cells:
                        rows.append(cells)
                if rows:
                    builder.heading(sheet.title, 1)
                    builder.table([[str(c) if c is not None else "" for c in r] for r in rows])
        finally:
            book.close()
