from collections.abc import Iterator

import numpy as np
import pytest

from llm_chat.knowledge.embedding import (
    AsyncEmbedder,
    E5SmallEmbedder,
    Embedder,
    InThread,
    OpenAICompatibleEmbedder,
)
from tests.fake_provider import EMBEDDING_DIMENSIONS, FakeProvider, fake_embedding


@pytest.fixture(scope="module")
def e5() -> E5SmallEmbedder:
    return E5SmallEmbedder()  # loads once for the module, on first use


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_e5_vectors_are_normalised_float32(e5: E5SmallEmbedder) -> None:
    embedder: Embedder = e5  # pyright checks that it is one
    vectors = embedder.embed_documents(["合同违约怎么办", "How do I end a contract?"])
    assert vectors.shape == (2, e5.dimension)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = e5.embed_query("违约")
    assert query.shape == (e5.dimension,)
    assert e5.embed_documents([]).shape == (0, e5.dimension)


@pytest.mark.parametrize(
    ("query", "paraphrase", "unrelated"),
    [
        (
            "对方不履行合同要承担什么责任？",
            "当事人一方不履行合同义务的，应当承担违约责任。",
            "今天北京天气晴朗，适合出门散步。",
        ),
        (
            "Who pays for insurance under CIF?",
            "Under CIF the seller buys insurance for the goods.",
            "The cat slept on the warm windowsill all afternoon.",
        ),
        (
            "卖方什么时候交货？",
            "The seller delivers the goods when they are on board the vessel.",
            "Photosynthesis turns light into chemical energy.",
        ),
    ],
)
def test_e5_paraphrase_is_closer_than_unrelated(
    e5: E5SmallEmbedder, query: str, paraphrase: str, unrelated: str
) -> None:
    q = e5.embed_query(query)
    passages = e5.embed_documents([paraphrase, unrelated])
    assert cosine(q, passages[0]) > cosine(q, passages[1]) + 0.02


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(api_key="sk-test") as fake:
        yield fake


async def test_openai_compatible_embedder_batches_over_http(provider: FakeProvider) -> None:
    embedder = OpenAICompatibleEmbedder(
        base_url=provider.base_url,
        api_key="sk-test",
        model="fake-embed",
        batch_size=2,
        query_prefix="query: ",
        document_prefix="passage: ",
    )
    try:
        typed: AsyncEmbedder = embedder  # pyright checks that it is one
        texts = ["违约金", "合同", "FOB", "CIF", "第五十四条"]
        vectors = await typed.embed_documents(texts)
        assert vectors.shape == (5, EMBEDDING_DIMENSIONS)
        assert vectors.dtype == np.float32
        expected = np.asarray([fake_embedding("passage: " + t) for t in texts], dtype=np.float32)
        assert np.allclose(vectors, expected, atol=1e-6)
        sent = [r.body["input"] for r in provider.requests if r.path == "/v1/embeddings"]
        assert sent == [
            ["passage: 违约金", "passage: 合同"],
            ["passage: FOB", "passage: CIF"],
            ["passage: 第五十四条"],
        ]
        query = await embedder.embed_query("违约")
        assert np.allclose(query, fake_embedding("query: 违约"), atol=1e-6)
        assert embedder.dimension == EMBEDDING_DIMENSIONS
        assert embedder.model_id == "fake-embed"
        assert "sk-test" not in repr(embedder)
        assert provider.requests[-1].body["model"] == "fake-embed"
    finally:
        await embedder.aclose()


async def test_openai_compatible_embedder_learns_its_dimension(provider: FakeProvider) -> None:
    embedder = OpenAICompatibleEmbedder(base_url=provider.base_url, api_key="sk-test", model="m")
    try:
        with pytest.raises(ValueError, match="not known"):
            _ = embedder.dimension
        assert await embedder.learn_dimension() == EMBEDDING_DIMENSIONS
        assert embedder.dimension == EMBEDDING_DIMENSIONS
        assert (await embedder.embed_documents([])).shape == (0, EMBEDDING_DIMENSIONS)
    finally:
        await embedder.aclose()
    wrong = OpenAICompatibleEmbedder(
        base_url=provider.base_url, api_key="sk-test", model="m", dimension=8
    )
    try:
        with pytest.raises(ValueError, match="expected 8"):
            await wrong.embed_query("x")
    finally:
        await wrong.aclose()


async def test_openai_compatible_embedder_reports_a_bad_key(provider: FakeProvider) -> None:
    import openai

    embedder = OpenAICompatibleEmbedder(base_url=provider.base_url, api_key="wrong", model="m")
    try:
        with pytest.raises(openai.AuthenticationError):
            await embedder.embed_query("x")
    finally:
        await embedder.aclose()


async def test_a_local_embedder_runs_in_a_thread_off_the_event_loop(e5: E5SmallEmbedder) -> None:
    threaded: AsyncEmbedder = InThread(e5)
    assert (threaded.model_id, threaded.dimension) == (e5.model_id, e5.dimension)
    query = await threaded.embed_query("违约")
    assert np.allclose(query, e5.embed_query("违约"), atol=1e-6)
    passages = await threaded.embed_documents(["合同", "违约金"])
    assert np.allclose(passages, e5.embed_documents(["合同", "违约金"]), atol=1e-6)
