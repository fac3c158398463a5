"""BM25 at 100,000 chunks: build time per document added, query p50/p95, filtered and compacted.

``python -m bench.lexical_scale [--chunks N]``. Synthetic chunks: 150-token slices of the CMRC
2018 paragraphs' tokens (tokenised once), ten per document, added one document at a time; the
queries are CMRC questions.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence

import numpy as np

from bench.retrieval_eval import DEFAULT_PATH, load_squad
from llm_chat.knowledge.lexical import LexicalIndex
from llm_chat.knowledge.tokenize import tokens

SEPARATOR = "\x00"


def timed_searches(
    index: LexicalIndex, queries: Sequence[str], allowed: set[int] | None = None
) -> str:
    latencies = []
    for query in queries:
        started = time.perf_counter()
        index.search(query, 50, allowed_chunk_ids=allowed)
        latencies.append(1000 * (time.perf_counter() - started))
    return f"p50 {np.percentile(latencies, 50):.1f} ms, p95 {np.percentile(latencies, 95):.1f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="BM25 index at scale.")
    parser.add_argument("--chunks", type=int, default=100_000)
    args = parser.parse_args(argv)
    data = load_squad(DEFAULT_PATH)
    paragraphs = [tokens(text) for text in data.texts]
    rng = random.Random(1)
    index = LexicalIndex(tokenizer=lambda text: text.split(SEPARATOR))
    started = time.perf_counter()
    for doc in range(args.chunks // 10):
        texts = []
        for _ in range(10):
            source = paragraphs[rng.randrange(len(paragraphs))]
            start = rng.randrange(max(1, len(source) - 150))
            texts.append(SEPARATOR.join(source[start : start + 150]))
        index.add(doc, list(range(doc * 10, doc * 10 + 10)), texts)
    build = time.perf_counter() - started
    print(f"{len(index)} chunks in {index.segment_count} segments, added in {build:.1f} s")
    queries = [SEPARATOR.join(tokens(q)) for q in data.questions[:300]]
    print("search:", timed_searches(index, queries))
    allowed = set(range(0, args.chunks, 7))
    print("search, 1 chunk in 7 allowed:", timed_searches(index, queries, allowed))
    started = time.perf_counter()
    index.compact()
    print(f"compact: {time.perf_counter() - started:.1f} s")
    print("search after compact:", timed_searches(index, queries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
