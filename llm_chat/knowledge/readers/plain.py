"""Plain text and CSV: decoding (UTF-8, UTF-16, GB18030) and paragraphs or rows."""

from __future__ import annotations

import codecs
import csv
import io
import re

from llm_chat.knowledge.document import DocumentBuilder, DocumentError

_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def decode_text(data: bytes) -> str:
    """``data`` as text: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030.

    GB18030 covers GBK and GB2312, what Chinese Windows saves "ANSI" text as. Binary data
    (NUL bytes without a UTF-16 BOM, or bytes no encoding accepts) is ``unsupported_type``.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError("knowledge.corrupt", "invalid UTF-16 text") from exc
    if b"\x00" in data[:8192]:
        raise DocumentError("knowledge.unsupported_type", "binary content")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError("knowledge.unsupported_type", "not text in a known encoding")


def paragraphs(text: str) -> list[str]:
    """``text`` split at blank lines (lines inside a paragraph are kept)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [part for part in _BLANK_LINE.split(text) if part.strip()]


def read_txt(data: bytes, builder: DocumentBuilder) -> None:
    """A plain text file: one paragraph per blank-line-separated run of lines."""
    for part in paragraphs(decode_text(data)):
        builder.paragraph(part)


def read_csv(data: bytes, builder: DocumentBuilder, *, delimiter: str | None = None) -> None:
    """A CSV (or TSV) file as one table whose first row is the header."""
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if len(rows) >= builder.limits.max_rows:
                raise DocumentError(
                    "knowledge.too_large", f"more than {builder.limits.max_rows} rows"
                )
            rows.append(row)
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
        raise DocumentError("knowledge.corrupt", f"unreadable CSV: {exc}") from exc
    builder.table(rows)
