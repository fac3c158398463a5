from pathlib import Path

import pytest

from llm_chat.knowledge.lexical import LexicalIndex

CONTRACT = [
    "当事人一方不履行合同义务的，应当承担违约责任。",
    "违约金过高的，人民法院可以根据当事人的请求予以适当减少。",
]
STATUTE = ["《民法典》第五十四条 自然人从事工商业经营，经依法登记，为个体工商户。"]
TRADE = ["FOB means the seller delivers the goods on board the vessel.", "CIF adds insurance."]


def make_index() -> LexicalIndex:
    index = LexicalIndex()
    index.add(1, [10, 11], CONTRACT)
    index.add(2, [20], STATUTE)
    index.add(3, [30, 31], TRADE)
    return index


def ids(results: list[tuple[int, float]]) -> list[int]:
    return [chunk_id for chunk_id, _ in results]


def assert_same(results: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    assert ids(results) == ids(expected)
    assert [score for _, score in results] == pytest.approx([score for _, score in expected])


def test_finds_two_character_words_and_references() -> None:
    index = make_index()
    assert len(index) == 5
    assert ids(index.search("违约金", k=1)) == [11]
    assert set(ids(index.search("违约"))) == {10, 11}
    assert ids(index.search("民法典第54条", k=1)) == [20]
    assert ids(index.search("what is FOB?", k=1)) == [30]
    scores = [score for _, score in index.search("违约")]
    assert scores == sorted(scores, reverse=True)
    assert index.search("猫狗 zzz") == []
    assert index.search("") == []


def test_filters_score_only_allowed_chunks() -> None:
    index = make_index()
    assert ids(index.search("违约", allowed_chunk_ids={11, 20})) == [11]
    assert index.search("违约", allowed_doc_ids=[2, 3]) == []
    assert ids(index.search("insurance", allowed_doc_ids=[3])) == [31]
    assert index.search("违约", allowed_chunk_ids=set()) == []


def test_remove_and_replace_a_document() -> None:
    index = make_index()
    assert index.remove(1) == 2
    assert index.remove(1) == 0
    assert index.search("违约") == []
    assert len(index) == 3
    index.add(2, [21], ["违约责任的新条文"])  # replaces the document's old chunks
    assert ids(index.search("违约")) == [21]
    assert index.search("个体工商户") == []


def test_idf_counts_live_chunks_only() -> None:
    index = LexicalIndex()
    index.add(1, [1], ["apple banana"])
    index.add(2, [2], ["apple cherry"])
    before = index.search("apple")[0][1]
    index.remove(2)
    index.add(3, [3], ["cherry only"])
    # apple is now in one chunk of two instead of two of two: rarer, so it weighs more.
    assert index.search("apple")[0][1] > before


def test_save_load_and_keep_updating(tmp_path: Path) -> None:
    index = make_index()
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.search("违约") == index.search("违约")
    loaded.remove(3)
    loaded.add(4, [40], ["违约 in English is breach"])
    loaded.save(tmp_path)
    again = LexicalIndex.load(tmp_path)
    assert again.search("FOB") == []
    assert ids(again.search("breach")) == [40]
    assert len(again) == 4


def test_segments_merge_and_compact_keep_results(tmp_path: Path) -> None:
    index = LexicalIndex(merge_factor=3)
    for doc in range(20):
        index.add(doc, [doc * 10, doc * 10 + 1], [f"文档{doc} 合同 第{doc}条", f"other {doc}"])
        if doc % 5 == 0:
            index.save(tmp_path)
    assert index.segment_count <= 6  # at most merge_factor - 1 per size tier
    index.remove(7)
    expected = index.search("合同", k=50)
    assert len(expected) == 19
    assert ids(index.search("第12条", k=1)) == [120]
    index.compact()
    assert index.segment_count == 1
    assert_same(index.search("合同", k=50), expected)
    index.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        f"seg-{index._next_segment:08d}"
    ]
    assert_same(LexicalIndex.load(tmp_path).search("合同", k=50), expected)


def test_mismatched_lengths_and_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        LexicalIndex().add(1, [1, 2], ["one"])
    with pytest.raises(ValueError, match="merge_factor"):
        LexicalIndex(merge_factor=1)
