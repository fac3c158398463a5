import pytest

from llm_chat.knowledge.fusion import reciprocal_rank_fusion


def test_an_id_ranked_well_by_both_lists_wins() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    lexical = [("b", 12.0), ("c", 11.0), ("d", 3.0)]
    fused = reciprocal_rank_fusion([dense, lexical])
    assert [key for key, _ in fused] == ["b", "c", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[2][1] == pytest.approx(1 / 61)


def test_scores_are_ignored_only_ranks_count() -> None:
    one = reciprocal_rank_fusion([[("x", 1000.0), ("y", 0.0)]])
    two = reciprocal_rank_fusion([[("x", 0.1), ("y", 0.09)]])
    assert one == two


def test_weights_and_k() -> None:
    dense = [("a", 1.0), ("b", 0.5)]
    lexical = [("b", 1.0), ("a", 0.5)]
    assert reciprocal_rank_fusion([dense, lexical], weights=[2.0, 1.0])[0][0] == "a"
    assert reciprocal_rank_fusion([dense, lexical], weights=[1.0, 2.0])[0][0] == "b"
    fused = reciprocal_rank_fusion([dense], k=0)
    assert fused == [("a", 1.0), ("b", 0.5)]


def test_ties_keep_first_seen_order_and_limit() -> None:
    fused = reciprocal_rank_fusion([[("a", 1.0)], [("b", 1.0)]], limit=1)
    assert fused == [("a", pytest.approx(1 / 61))]


def test_empty_and_bad_arguments() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    with pytest.raises(ValueError, match="one weight"):
        reciprocal_rank_fusion([[("a", 1.0)]], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="negative"):
        reciprocal_rank_fusion([[("a", 1.0)]], k=-1)
