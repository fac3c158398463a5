"""Turn an uploaded file into a :class:`ParsedDocument`: its type, its blocks, its text.

Pure library code (no database, no web): the ingestion pipeline calls
:func:`parse_document` and stores what it returns. Every failure is a
:class:`~llm_chat.knowledge.document.DocumentError` with a ``knowledge.*`` code.

The caps of :class:`ParseLimits` bound memory (zip bombs, page and row counts, text
size); a pathological PDF can still take long to read, so the pipeline should run this in
a worker it can stop.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import PurePath

from llm_chat.knowledge.document import (
    DocumentBuilder,
    DocumentError,
    Format,
    ParsedDocument,
    ParseLimits,
)
from llm_chat.knowledge.readers.markup import read_html, read_markdown
from llm_chat.knowledge.readers.office import read_docx, read_xlsx
from llm_chat.knowledge.readers.pdf import read_pdf
from llm_chat.knowledge.readers.plain import read_csv, read_txt

EXTENSIONS: dict[str, Format] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "txt",
    ".text": "txt",
}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# Formats we never read, recognised so they are refused before any decoding.
_BINARY = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x7fELF",
    b"MZ",
    b"\x1f\x8b",
    b"BZh",
    b"7z\xbc\xaf",
    b"Rar!",
    b"RIFF",
    b"\x00\x00\x01\x00",
    b"OggS",
    b"fLaC",
    b"ID3",
    b"{\\rtf",
)
_ZIP_MARKERS: dict[str, Format] = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx"}


def _check_zip(data: bytes, limits: ParseLimits) -> Format | None:
    """The Office format inside a zip, after checking its declared sizes (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > limits.max_zip_members:
                raise DocumentError("knowledge.too_large", f"{len(members)} files in the archive")
            unzipped = sum(member.file_size for member in members)
            names = {member.filename for member in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise DocumentError("knowledge.corrupt", f"damaged zip archive: {exc}") from exc
    formats: list[Format] = [fmt for marker, fmt in _ZIP_MARKERS.items() if marker in names]
    if formats and unzipped > limits.max_unzipped_bytes:
        raise DocumentError(
            "knowledge.too_large", f"{unzipped} bytes uncompressed (the limit is "
            f"{limits.max_unzipped_bytes})"
        )  # fmt: skip
    return formats[0] if formats else None


def detect_format(name: str, data: bytes, limits: ParseLimits | None = None) -> Format:
    """The document's format, from its content's magic bytes and its name's extension.

    Content wins where it is certain (PDF, Office zip); a file whose extension promises a
    binary format its content is not is ``corrupt``; a password-protected DOCX/XLSX (an OLE
    container) is ``encrypted``; legacy .doc/.xls and other binaries are ``unsupported_type``.
    """
    limits = limits or ParseLimits()
    extension = PurePath(name.strip()).suffix.lower()
    claimed = EXTENSIONS.get(extension)
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_ZIP):
        found = _check_zip(data, limits)
        if found is not None:
            return found
        if claimed in ("docx", "xlsx"):
            raise DocumentError("knowledge.corrupt", f"not a {claimed.upper()} package")
        raise DocumentError("knowledge.unsupported_type", "a zip archive")
    if data.startswith(_OLE):
        if claimed in ("docx", "xlsx"):
            raise DocumentError("knowledge.encrypted", "a password-protected Office file")
        raise DocumentError(
            "knowledge.unsupported_type", "a legacy Office file (.doc/.xls/.ppt): save it as "
            ".docx or .xlsx"
        )  # fmt: skip
    if data.startswith(_BINARY):
        raise DocumentError("knowledge.unsupported_type", "a binary file")
    if claimed in ("pdf", "docx", "xlsx"):
        raise DocumentError("knowledge.corrupt", f"not a {claimed.upper()} file")
    if claimed is not None:
        return claimed
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    raise DocumentError("knowledge.unsupported_type", f"unknown file type {extension or name!r}")


_READERS: dict[Format, Callable[[bytes, DocumentBuilder], object]] = {
    "pdf": read_pdf,
    "docx": read_docx,
    "xlsx": read_xlsx,
    "csv": read_csv,
    "html": read_html,
    "markdown": read_markdown,
    "txt": read_txt,
}


def parse_document(
    name: str, data: bytes, *, max_bytes: int, limits: ParseLimits | None = None
) -> ParsedDocument:
    """Parse an uploaded file (PDF, DOCX, XLSX, CSV, HTML, Markdown or plain text).

    Args:
        name: the file's name; its extension is one of the two clues to its type.
        data: the file's bytes.
        max_bytes: the upload limit; a larger file is ``knowledge.too_large``.
        limits: caps on what reading the file may take (defaults: :class:`ParseLimits`).

    Raises:
        DocumentError: ``knowledge.empty``, ``too_large``, ``unsupported_type``,
            ``corrupt``, ``encrypted`` or ``no_text``.
    """
    limits = limits or ParseLimits()
    if len(data) > max_bytes:
        raise DocumentError("knowledge.too_large", f"{len(data)} bytes (the limit is {max_bytes})")
    if not data.strip():
        raise DocumentError("knowledge.empty", "the file is empty")
    fmt = detect_format(name, data, limits)
    builder = DocumentBuilder(name, fmt, limits)
    try:
        result = _READERS[fmt](data, builder)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf, lxml, python-docx and openpyxl raise many kinds
        raise DocumentError("knowledge.corrupt", f"unreadable {fmt}: {exc!r}") from exc
    if fmt not in ("pdf", "docx") and not builder.blocks:
        # A text file of whitespace or a workbook of empty sheets is empty; a PDF or a
        # DOCX without text (scans, images) is ``no_text``.
        raise DocumentError("knowledge.empty", "the file holds no text")
    return builder.build(page_count=result if isinstance(result, int) else None)
