"""BM25 over chunk ids, kept on disk in segments and updated one document at a time.

Why not bm25s: it bakes every (term, document) score, with the collection's IDF and average
length, into one matrix at ``index()`` time, and has no call to add or remove a document, so
every change would rebuild the whole index (Open WebUI's slow path, its issue #8579). This index
stores raw term frequencies instead and scores at query time, so the collection's statistics are
always current:

- each ``add`` makes a small immutable segment (term -> postings of (row, tf) in CSR arrays);
- ``remove`` only marks rows dead; IDF, N and the average length count live rows only;
- segments of one size are merged in groups (log-structured, ``merge_factor``), and
  ``compact()`` merges everything and drops dead rows (call it from a background worker);
- ``save`` writes new segments as ``.npy`` files (existing ones are never rewritten, except their
  small ``alive`` mask) and a manifest; ``load`` memory-maps them.

A query reads only the postings of its own terms (numpy, no Python loop over documents) and
scores only the rows the caller allows (``allowed_chunk_ids`` / ``allowed_doc_ids``): a search
never ranks what its user may not read. IDF is computed over the whole index.
"""

from __future__ import annotations

import json
import math
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from llm_chat.knowledge.tokenize import tokens as default_tokens

FORMAT_VERSION = 1
Ints = npt.NDArray[np.int64]


@dataclass
class _Segment:
    """Postings of a fixed set of rows: ``rows[offsets[t]:offsets[t + 1]]`` hold term ``t``."""

    name: str
    vocab: dict[str, int]
    offsets: Ints
    rows: npt.NDArray[np.int32]
    tfs: npt.NDArray[np.float32]
    chunk_ids: Ints
    doc_ids: Ints
    lengths: npt.NDArray[np.float32]
    alive: npt.NDArray[np.bool_]
    saved: bool = False
    alive_saved: bool = False

    @classmethod
    def build(
        cls, name: str, doc_ids: Sequence[int], chunk_ids: Sequence[int], texts: Sequence[list[str]]
    ) -> _Segment:
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        rows: list[int] = []
        tfs: list[int] = []
        for row, words in enumerate(texts):
            for word, count in Counter(words).items():
                term_ids.append(vocab.setdefault(word, len(vocab)))
                rows.append(row)
                tfs.append(count)
        return cls._from_postings(
            name,
            vocab,
            np.asarray(term_ids, dtype=np.int64),
            np.asarray(rows, dtype=np.int32),
            np.asarray(tfs, dtype=np.float32),
            np.asarray(chunk_ids, dtype=np.int64),
            np.asarray(doc_ids, dtype=np.int64),
            np.asarray([len(words) for words in texts], dtype=np.float32),
        )

    @classmethod
    def _from_postings(
        cls,
        name: str,
        vocab: dict[str, int],
        term_ids: Ints,
        rows: npt.NDArray[np.int32],
        tfs: npt.NDArray[np.float32],
        chunk_ids: Ints,
        doc_ids: Ints,
        lengths: npt.NDArray[np.float32],
    ) -> _Segment:
        order = np.argsort(term_ids, kind="stable")
        counts = np.bincount(term_ids, minlength=len(vocab))
        offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(
            name,
            vocab,
            offsets,
            rows[order],
            tfs[order],
            chunk_ids,
            doc_ids,
            lengths,
            np.ones(len(chunk_ids), dtype=np.bool_),
        )

    @classmethod
    def merge(cls, name: str, segments: Sequence[_Segment]) -> _Segment:
        """One segment holding the live rows of ``segments``."""
        vocab: dict[str, int] = {}
        parts: list[tuple[Ints, npt.NDArray[np.int32], npt.NDArray[np.float32]]] = []
        row_base = 0
        for segment in segments:
            new_row = np.cumsum(segment.alive, dtype=np.int64) - 1 + row_base
            union_ids = np.asarray(
                [vocab.setdefault(term, len(vocab)) for term in segment.vocab], dtype=np.int64
            )
            local_terms = np.repeat(np.arange(len(segment.vocab)), np.diff(segment.offsets))
            keep = segment.alive[segment.rows]
            parts.append(
                (
                    union_ids[local_terms[keep]],
                    new_row[segment.rows[keep]].astype(np.int32),
                    np.asarray(segment.tfs[keep]),
                )
            )
            row_base += int(segment.alive.sum())
        live = [segment.alive for segment in segments]
        return cls._from_postings(
            name,
            vocab,
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            np.concatenate([s.chunk_ids[a] for s, a in zip(segments, live, strict=True)]),
            np.concatenate([s.doc_ids[a] for s, a in zip(segments, live, strict=True)]),
            np.concatenate([s.lengths[a] for s, a in zip(segments, live, strict=True)]),
        )

    def postings(self, term: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]] | None:
        index = self.vocab.get(term)
        if index is None:
            return None
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        return self.rows[start:end], self.tfs[start:end]

    def write(self, directory: Path) -> None:
        path = directory / self.name
        if not self.saved:
            path.mkdir(parents=True, exist_ok=True)
            terms = [""] * len(self.vocab)
            for term, index in self.vocab.items():
                terms[index] = term
            (path / "vocab.json").write_text(json.dumps(terms, ensure_ascii=False), "utf-8")
            for field in ("offsets", "rows", "tfs", "chunk_ids", "doc_ids", "lengths"):
                np.save(path / f"{field}.npy", getattr(self, field))
            self.saved = True
        if not self.alive_saved:
            np.save(path / "alive.npy", self.alive)
            self.alive_saved = True

    @classmethod
    def read(cls, directory: Path, name: str) -> _Segment:
        path = directory / name
        terms: list[str] = json.loads((path / "vocab.json").read_text("utf-8"))

        def array(field: str) -> np.ndarray:
            return np.load(path / f"{field}.npy", mmap_mode="r")

        return cls(
            name,
            {term: index for index, term in enumerate(terms)},
            array("offsets"),
            array("rows"),
            array("tfs"),
            array("chunk_ids"),
            array("doc_ids"),
            array("lengths"),
            np.array(np.load(path / "alive.npy")),
            saved=True,
            alive_saved=True,
        )


class LexicalIndex:
    """BM25 (Lucene's IDF, ``k1``, ``b``) over chunks, each belonging to one document.

    Args:
        tokenizer: text to tokens, the same for passages and queries.
        k1: term-frequency saturation.
        b: length normalisation.
        merge_factor: this many segments of one size tier are merged into one.
    """

    def __init__(
        self,
        tokenizer: Callable[[str], list[str]] = default_tokens,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        merge_factor: int = 8,
    ) -> None:
        if merge_factor < 2:
            raise ValueError("merge_factor must be at least 2")
        self._tokenize = tokenizer
        self.k1 = k1
        self.b = b
        self.merge_factor = merge_factor
        self._segments: list[_Segment] = []
        self._next_segment = 0
        self._dropped: list[str] = []  # merged away, deleted from disk at the next save
        self._lock = threading.RLock()

    def __len__(self) -> int:
        """Live chunks."""
        with self._lock:
            return sum(int(segment.alive.sum()) for segment in self._segments)

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    def _new_name(self) -> str:
        self._next_segment += 1
        return f"seg-{self._next_segment:08d}"

    def add(self, doc_id: int, chunk_ids: Sequence[int], texts: Sequence[str]) -> None:
        """Indexes a document's chunks, replacing whatever the document had."""
        if len(chunk_ids) != len(texts):
            raise ValueError("chunk_ids and texts differ in length")
        token_lists = [self._tokenize(text) for text in texts]  # outside the lock: the slow part
        with self._lock:
            self.remove(doc_id)
            if chunk_ids:
                segment = _Segment.build(
                    self._new_name(), [doc_id] * len(chunk_ids), chunk_ids, token_lists
                )
                self._segments.append(segment)
            self._merge_tiers()

    def remove(self, doc_id: int) -> int:
        """Forgets a document's chunks; returns how many there were."""
        removed = 0
        with self._lock:
            for segment in self._segments:
                dead = segment.alive & (segment.doc_ids == doc_id)
                if dead.any():
                    segment.alive[dead] = False
                    segment.alive_saved = False
                    removed += int(dead.sum())
        return removed

    def _tier(self, segment: _Segment) -> int:
        return int(math.log(max(len(segment.chunk_ids), 1), self.merge_factor))

    def _merge_tiers(self) -> None:
        # Log-structured: whenever the newest ``merge_factor`` segments are of one size tier,
        # they become one segment of the next tier, so each chunk is merged about
        # log(n, merge_factor) times over the index's life and segments stay few.
        while len(self._segments) >= self.merge_factor:
            tail = self._segments[-self.merge_factor :]
            if len({self._tier(segment) for segment in tail}) != 1:
                return
            self._replace(tail)

    def compact(self) -> None:
        """Merges every segment into one without dead rows."""
        with self._lock:
            if len(self._segments) > 1 or any(not s.alive.all() for s in self._segments):
                self._replace(list(self._segments))

    def _replace(self, old: list[_Segment]) -> None:
        merged = _Segment.merge(self._new_name(), old)
        names = {segment.name for segment in old}
        position = min(i for i, s in enumerate(self._segments) if s.name in names)
        kept = [s for s in self._segments if s.name not in names]
        kept.insert(position, merged)
        self._segments = [s for s in kept if len(s.chunk_ids)]
        self._dropped.extend(s.name for s in old if s.saved)

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        allowed_chunk_ids: Collection[int] | None = None,
        allowed_doc_ids: Collection[int] | None = None,
    ) -> list[tuple[int, float]]:
        """The best ``k`` chunks for ``query`` as (chunk id, score), best first.

        Only chunks in ``allowed_chunk_ids`` and of documents in ``allowed_doc_ids`` (when
        given) are scored.
        """
        terms = Counter(self._tokenize(query))
        with self._lock:
            segments = list(self._segments)
            alive = [segment.alive.copy() for segment in segments]
        live = sum(int(a.sum()) for a in alive)
        if not terms or not live or k <= 0:
            return []
        total_length = sum(float(s.lengths[a].sum()) for s, a in zip(segments, alive, strict=True))
        average_length = max(total_length / live, 1e-9)
        row_base = np.cumsum([0] + [len(s.chunk_ids) for s in segments])
        all_rows: list[np.ndarray] = []
        all_scores: list[np.ndarray] = []
        for term, query_count in terms.items():
            found = []
            for number, segment in enumerate(segments):
                postings = segment.postings(term)
                if postings is not None:
                    keep = alive[number][postings[0]]
                    rows, tfs = postings[0][keep], postings[1][keep]
                    length = segment.lengths[rows]
                    found.append((rows.astype(np.int64) + row_base[number], tfs, length))
            df = sum(len(rows) for rows, _, _ in found)
            if not df:
                continue
            idf = math.log(1.0 + (live - df + 0.5) / (df + 0.5)) * query_count
            for rows, tfs, length in found:
                norm = self.k1 * (1.0 - self.b + self.b * length / average_length)
                all_rows.append(rows)
                all_scores.append(idf * tfs * (self.k1 + 1.0) / (tfs + norm))
        if not all_rows:
            return []
        rows = np.concatenate(all_rows)
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(all_scores))
        chunk_ids = np.concatenate([s.chunk_ids for s in segments])[unique_rows]
        if allowed_chunk_ids is not None or allowed_doc_ids is not None:
            keep = np.ones(len(unique_rows), dtype=np.bool_)
            if allowed_chunk_ids is not None:
                keep &= np.isin(chunk_ids, np.fromiter(allowed_chunk_ids, dtype=np.int64))
            if allowed_doc_ids is not None:
                doc_ids = np.concatenate([s.doc_ids for s in segments])[unique_rows]
                keep &= np.isin(doc_ids, np.fromiter(allowed_doc_ids, dtype=np.int64))
            chunk_ids, scores = chunk_ids[keep], scores[keep]
        if len(scores) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            chunk_ids, scores = chunk_ids[top], scores[top]
        order = np.lexsort((chunk_ids, -scores))
        return [(int(chunk_ids[i]), float(scores[i])) for i in order]

    def save(self, directory: str | Path) -> None:
        """Writes new segments and the manifest; deletes merged-away segments."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            for segment in self._segments:
                segment.write(directory)
            manifest = {
                "format": FORMAT_VERSION,
                "k1": self.k1,
                "b": self.b,
                "next_segment": self._next_segment,
                "segments": [segment.name for segment in self._segments],
            }
            temporary = directory / "manifest.json.tmp"
            temporary.write_text(json.dumps(manifest), "utf-8")
            temporary.replace(directory / "manifest.json")
            for name in self._dropped:
                shutil.rmtree(directory / name, ignore_errors=True)
            self._dropped.clear()

    @classmethod
    def load(
        cls,
        directory: str | Path,
        tokenizer: Callable[[str], list[str]] = default_tokens,
        *,
        merge_factor: int = 8,
    ) -> LexicalIndex:
        """Opens an index ``save`` wrote (segments memory-mapped)."""
        directory = Path(directory)
        manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown lexical index format in {directory}")
        index = cls(tokenizer, k1=manifest["k1"], b=manifest["b"], merge_factor=merge_factor)
        index._next_segment = manifest["next_segment"]
        index._segments = [_Segment.read(directory, name) for name in manifest["segments"]]
        return index
