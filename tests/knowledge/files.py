"""Small real documents for the knowledge tests: PDF, DOCX and XLSX made in memory."""

from __future__ import annotations

import io

import docx
import openpyxl
from pypdf import PdfReader, PdfWriter


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages show these lines (Helvetica, so ASCII text) in a text layer.

    An empty list of lines draws a filled rectangle instead, like a scanned page: no text.
    """
    count = len(pages)
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: (
            "<< /Type /Pages /Kids ["
            + " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
            + f"] /Count {count} >>"
        ).encode(),
        3 + 2 * count: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for i, lines in enumerate(pages):
        if lines:
            shown = " ".join(f"({_pdf_string(line)}) Tj T*" for line in lines)
            content = f"BT /F1 12 Tf 16 TL 72 720 Td {shown} ET".encode()
        else:
            content = b"0.5 g 72 72 400 600 re f"
        objects[3 + 2 * i] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {3 + 2 * count} 0 R >> >> >>"
        ).encode()
        objects[4 + 2 * i] = (
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def encrypt_pdf(data: bytes, *, user_password: str, owner_password: str = "owner") -> bytes:  # noqa: S107
    """``data`` encrypted with AES-128 (an empty user password opens it without asking)."""
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(data)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx() -> bytes:
    """A DOCX with headings at two levels, paragraphs and a table."""
    document = docx.Document()
    document.add_heading("Export Terms", level=1)
    document.add_paragraph("These terms apply to every order shipped abroad.")
    document.add_heading("Article 3. Payment", level=2)
    document.add_paragraph("Payment is due within 30 days of the invoice date.")
    document.add_paragraph("Late payment bears interest at 1% a month.")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["Incoterm", "Risk passes", "Freight"],
                             ["FOB", "On board", "Buyer"],
                             ["CIF", "On board", "Seller"]]):  # fmt: skip
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("第二章 运输", level=1)
    document.add_paragraph("第十条　货物应当在约定期限内装运。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx(rows: int = 3) -> bytes:
    """A workbook: a price sheet of ``rows`` rows under a header, and an empty sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "价格表"
    sheet.append(["型号", "单价 (USD)", "最小起订量"])
    for i in range(rows):
        sheet.append([f"A-{i + 1:03d}", 12.5 + i, 100 * (i + 1)])
    book.create_sheet("Empty")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
