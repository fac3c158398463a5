"""chunk_document on statutes (Chinese and English), tables and PDFs."""

from __future__ import annotations

import re

from llm_chat.knowledge.chunking import Chunk, chunk_document, split_span
from llm_chat.knowledge.document import ParsedDocument
from llm_chat.knowledge.parsing import parse_document
from tests.knowledge.files import make_docx, make_pdf, make_xlsx

# Written in the style of the Civil Code; not its text.
LONG_ARTICLE = (
    "第一百二十三条　民事主体依法享有知识产权。"
    "知识产权是权利人依法就下列客体享有的专有的权利：作品；发明、实用新型、外观设计；"
    "商标；地理标志；商业秘密；集成电路布图设计；植物新品种；法律规定的其他客体。"
    "权利人行使知识产权，不得滥用权利损害他人合法权益，也不得妨碍技术的正当传播与应用。"
    "因行使知识产权发生争议的，当事人可以协商解决，也可以依法申请调解、仲裁或者提起诉讼！"
    "人民法院审理知识产权案件，应当兼顾权利人利益与社会公共利益，促进科学技术进步和文化繁荣？"
    "国家鼓励知识产权的创造、运用、保护、管理和服务，完善知识产权保护体系，"
    "加强知识产权领域的国际交流与合作，维护国家利益和公共利益。"
)
STATUTE = f"""中华人民共和国示范民事法（节选）

第一编　总则

第一章　基本规定

第一条　为了保护民事主体的合法权益，调整民事关系，维护社会和经济秩序，制定本法。
第二条　本法调整平等主体的自然人、法人和非法人组织之间的人身关系和财产关系。
第三条　民事主体的人身权利、财产权利以及其他合法权益受法律保护，任何组织或者个人不得侵犯。
依照前款规定受到侵害的，可以请求停止侵害。

第四条　民事主体在民事活动中的法律地位一律平等。

第二章　自然人

第一节　民事权利能力和民事行为能力

第十三条　自然人从出生时起到死亡时止，具有民事权利能力，依法享有民事权利，承担民事义务。
第十七条　十八周岁以上的自然人为成年人。不满十八周岁的自然人为未成年人。
第五十四条　自然人从事工商业经营，经依法登记，为个体工商户。个体工商户可以起字号。

第二节　监护

第二十七条　父母是未成年子女的监护人。
未成年人的父母已经死亡或者没有监护能力的，由下列有监护能力的人按顺序担任监护人：
（一）祖父母、外祖父母；
（二）兄、姐；
（三）其他愿意担任监护人的个人或者组织。

第五章　民事权利

{LONG_ARTICLE}
第一百二十条之一　以本条为例的附加条文，依照第一百二十三条的规定适用。
第一千二百六十条　本法自二〇二一年一月一日起施行。
"""

ENGLISH = """# Model Sale of Goods Act

## Part I — Preliminary

Article 1. Short title
This Act may be cited as the Model Sale of Goods Act.

Article 2. Definitions
In this Act, "goods" means all movables. Section 5 of this Act defines delivery.

## Part II — Formation

Article 12. Offer and acceptance
A contract is concluded when an acceptance of an offer becomes effective.
An offer may be withdrawn if the withdrawal reaches the offeree first.

§ 13 Form
A contract of sale need not be concluded in writing.
"""


def chunks_of(name: str, text: str, **sizes: int) -> tuple[ParsedDocument, list[Chunk]]:
    doc = parse_document(name, text.encode(), max_bytes=1_000_000)
    chunks = chunk_document(doc, **sizes)
    for chunk in chunks:
        body = doc.text[chunk.char_start : chunk.char_end]
        if chunk.kind == "text":
            assert chunk.text == body
        else:
            assert chunk.text.endswith(body)
        assert chunk.char_end - chunk.char_start <= sizes.get("max_chars", 1200)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    return doc, chunks


def by_label(chunks: list[Chunk]) -> dict[str, list[Chunk]]:
    found: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        if chunk.article_label:
            found.setdefault(chunk.article_label, []).append(chunk)
    return found


def test_chinese_articles_are_whole_units_with_their_paths() -> None:
    _, chunks = chunks_of("民法.txt", STATUTE)
    articles = by_label(chunks)
    assert list(articles) == [
        "第一条", "第二条", "第三条", "第四条", "第十三条", "第十七条", "第五十四条",
        "第二十七条", "第一百二十三条", "第一百二十条之一", "第一千二百六十条",
    ]  # fmt: skip
    numbers = [c.article_number for c in chunks if c.article_label]
    assert numbers == [1, 2, 3, 4, 13, 17, 54, 27, 123, 120, 1260]
    for label, parts in articles.items():
        assert len(parts) == 1, label
        (chunk,) = parts
        assert chunk.text.startswith(label)
        assert chunk.heading_path[-1] == label
        # No other article starts inside this one.
        assert not re.search(r"\n第[一二三四五六七八九十百千]+条", chunk.text)
    # Its second paragraph ("依照前款…") stays with article 3, the list items with 27.
    assert articles["第三条"][0].text.endswith("可以请求停止侵害。")
    assert articles["第二十七条"][0].text.endswith("（三）其他愿意担任监护人的个人或者组织。")
    assert articles["第一条"][0].heading_path == ("第一编 总则", "第一章 基本规定", "第一条")
    assert articles["第五十四条"][0].heading_path == (
        "第一编 总则", "第二章 自然人", "第一节 民事权利能力和民事行为能力", "第五十四条",
    )  # fmt: skip
    assert articles["第二十七条"][0].heading_path[:3] == (
        "第一编 总则",
        "第二章 自然人",
        "第二节 监护",
    )
    assert articles["第一百二十三条"][0].heading_path == (
        "第一编 总则", "第五章 民事权利", "第一百二十三条",
    )  # fmt: skip
    # The title before any article is a chunk of its own, outside every division.
    assert chunks[0].text == "中华人民共和国示范民事法（节选）"
    assert chunks[0].heading_path == ()


def test_a_long_article_is_cut_at_sentence_ends_keeping_its_label() -> None:
    _, chunks = chunks_of("民法.txt", STATUTE, target_chars=120, max_chars=200)
    parts = by_label(chunks)["第一百二十三条"]
    assert len(parts) >= 2
    assert [p.part for p in parts] == list(range(1, len(parts) + 1))
    assert {p.part_count for p in parts} == {len(parts)}
    assert all(p.heading_path[-1] == "第一百二十三条" and p.article_number == 123 for p in parts)
    assert all(p.text[-1] in "。！？；" for p in parts)
    assert "".join(p.text for p in parts) == LONG_ARTICLE
    # Short articles stay whole and alone even with small chunks.
    assert len(by_label(chunks)["第二十七条"]) == 1


def test_english_articles_under_markdown_parts() -> None:
    _, chunks = chunks_of("act.md", ENGLISH)
    articles = by_label(chunks)
    assert list(articles) == ["Article 1", "Article 2", "Article 12", "§ 13"]
    twelve = articles["Article 12"][0]
    assert twelve.article_number == 12
    assert twelve.heading_path == (
        "Model Sale of Goods Act", "Part II — Formation", "Article 12",
    )  # fmt: skip
    assert twelve.text.startswith("Article 12. Offer and acceptance\nA contract")
    assert twelve.text.endswith("reaches the offeree first.")
    # "Section 5 of this Act" inside article 2 is a reference, not a new article.
    assert articles["Article 2"][0].text.endswith("Section 5 of this Act defines delivery.")
    assert articles["§ 13"][0].article_number == 13


def test_article_as_a_styled_heading_keeps_its_body() -> None:
    doc = parse_document("terms.docx", make_docx(), max_bytes=1_000_000)
    chunks = chunk_document(doc)
    payment = by_label(chunks)["Article 3"]
    assert len(payment) == 1
    assert payment[0].heading_path == ("Export Terms", "Article 3. Payment")
    assert payment[0].text.startswith("Article 3. Payment\n\nPayment is due")
    assert payment[0].text.endswith("1% a month.")
    table = next(c for c in chunks if c.kind == "table")
    assert table.heading_path == ("Export Terms", "Article 3. Payment")
    ten = by_label(chunks)["第十条"][0]
    assert ten.heading_path == ("第二章 运输", "第十条")


def test_table_header_repeated_in_every_chunk() -> None:
    doc = parse_document("prices.xlsx", make_xlsx(rows=60), max_bytes=1_000_000)
    chunks = chunk_document(doc, target_chars=200, max_chars=300)
    tables = [c for c in chunks if c.kind == "table"]
    assert len(tables) >= 4
    header = "型号 | 单价 (USD) | 最小起订量"
    rows_seen: list[str] = []
    for chunk in tables:
        first, *rows = chunk.text.split("\n")
        assert first == header
        assert chunk.heading_path == ("价格表",)
        assert doc.text[chunk.char_start : chunk.char_end] == "\n".join(rows)
        assert len(chunk.text) <= 300
        rows_seen.extend(rows)
    assert rows_seen == [f"A-{i + 1:03d} | {12.5 + i:g} | {100 * (i + 1)}" for i in range(60)]


def test_pdf_chunks_record_first_and_last_page() -> None:
    page1 = [f"Sentence {i} on the first page is here." for i in range(6)]
    page2 = [f"Sentence {i} on the second page is here." for i in range(6)]
    doc = parse_document("two.pdf", make_pdf([page1, page2]), max_bytes=1_000_000)
    (whole,) = chunk_document(doc)
    assert (whole.page, whole.page_end) == (1, 2)
    small = chunk_document(doc, target_chars=150, max_chars=250)
    assert small[0].page == 1
    assert small[-1].page == small[-1].page_end == 2
    assert all(c.text.endswith(".") for c in small)


def test_split_span_prefers_paragraphs_then_sentences() -> None:
    text = "一二三四五。六七八九十，甲乙丙丁。\n\n子丑寅卯辰巳午未。申酉戌亥"
    spans = split_span(text, 0, len(text), target_chars=10, max_chars=20)
    assert [text[s:e] for s, e in spans] == [
        "一二三四五。六七八九十，甲乙丙丁。",
        "子丑寅卯辰巳午未。申酉戌亥",
    ]
    unbroken = "字" * 25
    assert split_span(unbroken, 0, 25, target_chars=10, max_chars=10) == [
        (0, 10),
        (10, 20),
        (20, 25),
    ]
