"""Reciprocal rank fusion: one ranking from several, by rank alone (Cormack et al., SIGIR 2009).

A document's fused score is the sum over the lists it appears in of ``weight / (k + rank)``,
ranks from 1. Scores of different retrievers (cosine, BM25) are not comparable; ranks are.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)

DEFAULT_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[tuple[Key, float]]],
    *,
    k: float = DEFAULT_K,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[tuple[Key, float]]:
    """Fuses ranked lists of (id, score), best first, into one.

    Args:
        rankings: each retriever's results, best first; their scores are ignored.
        k: damping; larger values flatten the difference between top and lower ranks.
        weights: one per ranking (default 1 each).
        limit: keep this many (default all).

    Returns:
        (id, fused score), best first; ties keep the order in which ids were first seen.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    if k < 0:
        raise ValueError("k must not be negative")
    fused: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (key, _score) in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    ordered = sorted(fused.items(), key=lambda item: -item[1])
    return ordered if limit is None else ordered[:limit]
