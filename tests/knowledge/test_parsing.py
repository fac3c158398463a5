"""parse_document: each format made for real, offsets into the text, and every failure code."""

from __future__ import annotations

import contextlib
import io
import random
import struct
import zipfile

import pytest

from llm_chat.knowledge.document import DocumentError, ParsedDocument, ParseLimits
from llm_chat.knowledge.parsing import detect_format, parse_document
from tests.knowledge.files import encrypt_pdf, make_docx, make_pdf, make_xlsx

MB = 1024 * 1024


def parse(name: str, data: bytes) -> ParsedDocument:
    doc = parse_document(name, data, max_bytes=10 * MB)
    for block in doc.blocks:  # every block points at its own text
        assert doc.text[block.char_start : block.char_end] == block.text
        for start, end in (block.header_span, *block.row_spans) if block.kind == "table" else ():
            assert "\n" not in doc.text[start:end]
    return doc


def failure(name: str, data: bytes, *, max_bytes: int = 10 * MB, **limits: int) -> str:
    with pytest.raises(DocumentError) as caught:
        parse_document(name, data, max_bytes=max_bytes, limits=ParseLimits(**limits))
    return caught.value.code


def test_pdf_text_per_page() -> None:
    data = make_pdf([["Article 1. Scope.", "This law applies to sales."], ["Article 2 (Terms)."]])
    doc = parse("law.pdf", data)
    assert doc.format == "pdf"
    assert doc.page_count == 2
    assert [(b.page, b.text) for b in doc.blocks] == [
        (1, "Article 1. Scope.\nThis law applies to sales."),
        (2, "Article 2 (Terms)."),
    ]


def test_pdf_with_owner_password_only_opens() -> None:
    data = encrypt_pdf(make_pdf([["Open to read."]]), user_password="")
    assert parse("locked.pdf", data).text == "Open to read."


def test_pdf_failures() -> None:
    locked = encrypt_pdf(make_pdf([["Secret."]]), user_password="secret")
    assert failure("locked.pdf", locked) == "knowledge.encrypted"
    assert failure("scan.pdf", make_pdf([[], []])) == "knowledge.no_text"
    assert failure("cut.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog") == "knowledge.corrupt"
    assert (
        failure("long.pdf", make_pdf([["a"], ["b"], ["c"]]), max_pages=2) == "knowledge.too_large"
    )


def test_docx_headings_paragraphs_and_tables() -> None:
    doc = parse("terms.docx", make_docx())
    assert doc.format == "docx"
    assert [(b.kind, b.level, b.text.split("\n")[0]) for b in doc.blocks] == [
        ("heading", 1, "Export Terms"),
        ("paragraph", 0, "These terms apply to every order shipped abroad."),
        ("heading", 2, "Article 3. Payment"),
        ("paragraph", 0, "Payment is due within 30 days of the invoice date."),
        ("paragraph", 0, "Late payment bears interest at 1% a month."),
        ("table", 0, "Incoterm | Risk passes | Freight"),
        ("heading", 1, "第二章 运输"),
        ("paragraph", 0, "第十条\u3000货物应当在约定期限内装运。"),
    ]
    table = doc.blocks[5]
    assert table.header == ("Incoterm", "Risk passes", "Freight")
    assert table.rows == (("FOB", "On board", "Buyer"), ("CIF", "On board", "Seller"))
    assert all(b.page is None for b in doc.blocks)


def test_xlsx_sheets_as_tables() -> None:
    doc = parse("prices.xlsx", make_xlsx())
    assert doc.format == "xlsx"
    heading, table = doc.blocks  # the empty sheet gives nothing
    assert (heading.kind, heading.text) == ("heading", "价格表")
    assert table.header == ("型号", "单价 (USD)", "最小起订量")
    assert table.rows[0] == ("A-001", "12.5", "100")
    assert failure("big.xlsx", make_xlsx(rows=50), max_rows=20) == "knowledge.too_large"


def test_csv_with_chinese_and_semicolons() -> None:
    data = '品名;数量;备注\n茶叶;10;"含税, 含运费"\n瓷器;2;易碎\n'.encode()
    doc = parse("orders.csv", data)
    (table,) = doc.blocks
    assert table.header == ("品名", "数量", "备注")
    assert table.rows == (("茶叶", "10", "含税, 含运费"), ("瓷器", "2", "易碎"))


def test_html_headings_paragraphs_tables_without_scripts() -> None:
    html = """<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style></head>
    <body><script>var secret = "x";</script>
    <h1>Shipping &amp; Returns</h1><p>Goods ship in <b>3 days</b>.<br>Returns within 14 days.</p>
    <h2>Rates</h2><table><tr><th>Zone</th><th>Fee</th></tr><tr><td>EU</td><td>€10</td></tr>
    <tr><td>Asia</td><td><table><tr><td>inner</td></tr></table></td></tr></table>
    <div>Questions? Write to us.</div></body></html>"""
    doc = parse("page.html", html.encode())
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Shipping & Returns"),
        ("paragraph", 0, "Goods ship in 3 days.\nReturns within 14 days."),
        ("heading", 2, "Rates"),
        ("table", 0, "Zone | Fee\nEU | €10\nAsia | inner"),
        ("paragraph", 0, "Questions? Write to us."),
    ]
    assert "secret" not in doc.text
    assert "color" not in doc.text


def test_markdown_headings_tables_and_code() -> None:
    md = (
        "# 合同法概要\n\n引言段落，\n第二行。\n\n## 第一章 一般规定\n\n"
        "| 条 | 内容 |\n|---|:---|\n| 1 | 目的 |\n\n```\n# not a heading\n```\n\nSetext\n---\n"
    )
    doc = parse("notes.md", md.encode())
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "合同法概要"),
        ("paragraph", 0, "引言段落，\n第二行。"),
        ("heading", 2, "第一章 一般规定"),
        ("table", 0, "条 | 内容\n1 | 目的"),
        ("paragraph", 0, "```\n# not a heading\n```"),
        ("heading", 2, "Setext"),
    ]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_chinese_text_in_each_encoding(encoding: str) -> None:
    text = "第一条　为了保护民事主体的合法权益。\n第二条　民法调整平等主体之间的关系。\n\n附则"
    doc = parse("民法典.txt", text.encode(encoding))
    assert doc.format == "txt"
    assert [b.text for b in doc.blocks] == [text.split("\n\n")[0], "附则"]


def test_detection_by_content_and_extension() -> None:
    assert detect_format("no-extension", make_pdf([["x"]])) == "pdf"
    assert detect_format("report.bin", make_docx()) == "docx"
    assert detect_format("page", b"  <!doctype html><p>x</p>") == "html"
    assert detect_format("data.TSV", b"a\tb\n1\t2\n") == "csv"


def _office_bomb() -> bytes:
    """A DOCX-looking zip whose central directory declares 4 GB for its document part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    data = bytearray(buffer.getvalue())
    entry = data.rfind(b"PK\x01\x02")  # the central directory entry of word/document.xml
    data[entry + 24 : entry + 28] = struct.pack("<I", 0xFFFFFFF0)
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.txt", b"", "knowledge.empty"),
        ("blank.md", b"\n  \n\t", "knowledge.empty"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(100), "knowledge.unsupported_type"),
        ("tool.exe", b"MZ\x90\x00" + bytes(100), "knowledge.unsupported_type"),
        ("program.txt", b"\x7fELF\x02\x01\x01" + bytes(100), "knowledge.unsupported_type"),
        ("notes.txt", b"abc\x00\x01\x02def", "knowledge.unsupported_type"),
        ("script.py", b"print('hi')\n", "knowledge.unsupported_type"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "knowledge.unsupported_type"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "knowledge.encrypted"),
        ("broken.docx", b"PK\x03\x04" + b"\x14\x00garbage" * 20, "knowledge.corrupt"),
        ("fake.docx", b"just some text", "knowledge.corrupt"),
        ("fake.pdf", b"<html>not a pdf</html>", "knowledge.corrupt"),
        ("archive.zip", make_docx().replace(b"word/document.xml", b"word/other000.xml"),
         "knowledge.unsupported_type"),
        ("bomb.docx", _office_bomb(), "knowledge.too_large"),
    ],
)  # fmt: skip
def test_failures(name: str, data: bytes, code: str) -> None:
    assert failure(name, data) == code


def test_oversize_and_text_limits() -> None:
    assert failure("big.txt", b"x" * 2000, max_bytes=1000) == "knowledge.too_large"
    assert failure("long.txt", "字".encode() * 2000, max_chars=1000) == "knowledge.too_large"
    assert failure("terms.docx", make_docx(), max_unzipped_bytes=1000) == "knowledge.too_large"
    assert failure("rows.csv", b"a,b\n" * 50, max_rows=10) == "knowledge.too_large"


def test_damaged_files_fail_with_a_code() -> None:
    """Bytes flipped in real files: a document or a DocumentError, never another exception."""
    rng = random.Random(14)
    originals = [
        ("a.pdf", make_pdf([["Some text."]])),
        ("a.docx", make_docx()),
        ("a.xlsx", make_xlsx()),
        ("a.html", b"<p>x</p><table><tr><td>1"),
    ]
    for name, original in originals:
        for _ in range(25):
            data = bytearray(original)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            with contextlib.suppress(DocumentError):
                parse_document(name, bytes(data), max_bytes=10 * MB)
