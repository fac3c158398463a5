"""PDF (pypdf): the text layer of each page, as paragraphs carrying their page number."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from llm_chat.knowledge.document import DocumentBuilder, DocumentError
from llm_chat.knowledge.readers.plain import paragraphs


def read_pdf(data: bytes, builder: DocumentBuilder) -> int:
    """Each page's text split at blank lines; return the page count.

    A PDF that only an owner password protects (printing, copying) opens with the empty user
    password, as every viewer does; one that needs a password to open is ``encrypted``.
    Pages with no text layer (scans) give nothing: all of them give ``no_text``.
    """
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise DocumentError("knowledge.encrypted", str(exc)) from exc
            if not opened:
                raise DocumentError("knowledge.encrypted", "the PDF needs a password")
        count = len(reader.pages)
        if count > builder.limits.max_pages:
            raise DocumentError(
                "knowledge.too_large", f"more than {builder.limits.max_pages} pages"
            )
        for number, page in enumerate(reader.pages, start=1):
            for part in paragraphs(page.extract_text()):
                builder.paragraph(part, page=number)
    except FileNotDecryptedError as exc:
        raise DocumentError("knowledge.encrypted", str(exc)) from exc
    return count
