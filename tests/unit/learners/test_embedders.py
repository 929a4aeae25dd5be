from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from learners.semantics import EmbeddingError, OpenAIEmbedder, SentenceTransformerEmbedder
from learners.semantics.embedders import check_texts
from learners.semantics.http import EndpointError
from tests.openai_stub import openai_stub, vector_for


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["fine", ""], "text 1 is empty"),
        (["   "], "text 0 is empty"),
        (["ok", "bad \udcff byte"], "text 1 is not valid UTF-8"),
        (["ok", 3], "text 1 is int, not str"),
    ],
)
def test_bad_texts_are_refused_with_their_position(texts: list[str], message: str) -> None:
    with pytest.raises(EmbeddingError, match=message):
        check_texts(texts)


def test_openai_backend_orders_normalises_and_probes_the_dimension() -> None:
    with openai_stub(dimension=8) as (url, state):
        embedder = OpenAIEmbedder(url, "stub-model", batch_size=2)
        assert embedder.dimension == 8
        vectors = embedder.embed(["a", "b", "c"])
        assert vectors.dtype == np.float32 and vectors.shape == (3, 8)
        expected = np.array([vector_for(t, 8) for t in "abc"], dtype=np.float32)
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        np.testing.assert_allclose(vectors, expected, rtol=1e-6)
        assert [len(r["input"]) for r in state.requests[1:]] == [2, 1]  # batched
        assert all(r["model"] == "stub-model" for r in state.requests)


def test_openai_backend_puts_the_query_instruction_on_queries_only() -> None:
    with openai_stub() as (url, state):
        embedder = OpenAIEmbedder(url, "m", query_instruction="Query: ")
        embedder.embed(["doc"])
        embedder.embed_queries(["what"])
        assert state.requests[-2]["input"] == ["doc"]
        assert state.requests[-1]["input"] == ["Query: what"]


def test_endpoint_that_changes_dimension_is_refused() -> None:
    with openai_stub(dimension=8) as (url, state):
        embedder = OpenAIEmbedder(url, "m")
        state.dimension = 16
        with pytest.raises(EmbeddingError, match="returned 16-dimensional vectors, expected 8"):
            embedder.embed(["x"])


def test_declared_dimension_is_checked_against_the_answers() -> None:
    with openai_stub(dimension=8) as (url, _), pytest.raises(EmbeddingError, match="expected 384"):
        OpenAIEmbedder(url, "m", dimension=384).embed(["x"])


def test_endpoint_errors_are_clear() -> None:
    with openai_stub() as (url, state):
        state.fail_with = 500
        with pytest.raises(EmbeddingError, match="answered HTTP 500"):
            OpenAIEmbedder(url, "m")
        state.fail_with, state.garbage = None, True
        with pytest.raises(EmbeddingError, match="invalid JSON"):
            OpenAIEmbedder(url, "m")


def test_transient_endpoint_failures_are_retried() -> None:
    from learners.semantics.http import post_json

    body = {"model": "m", "input": ["a"]}
    with openai_stub() as (url, state):
        state.fail_with, state.fail_times = 503, 2  # overloaded twice, then answers
        answer = post_json(f"{url}/embeddings", body, None, 5.0, retries=3, backoff_s=0.01)
        assert len(answer["data"]) == 1 and len(state.requests) == 3
        state.requests.clear()
        state.fail_with, state.fail_times = 503, None  # never recovers: one try and 3 retries
        with pytest.raises(EndpointError, match="answered HTTP 503"):
            post_json(f"{url}/embeddings", body, None, 5.0, retries=3, backoff_s=0.01)
        assert len(state.requests) == 4
        state.requests.clear()
        state.fail_with, state.fail_times = 400, None  # a client error is not retried
        with pytest.raises(EndpointError, match="answered HTTP 400"):
            post_json(f"{url}/embeddings", body, None, 5.0, retries=3, backoff_s=0.01)
        assert len(state.requests) == 1


def test_endpoint_that_is_down_is_clear() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EmbeddingError, match=r"cannot reach http://127\.0\.0\.1"):
        OpenAIEmbedder(f"http://127.0.0.1:{port}/v1", "m", timeout_s=2)


def test_missing_model_directory_is_clear(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="does not exist"):
        SentenceTransformerEmbedder(tmp_path / "no-such-model")


def test_packaged_model_loads_offline_and_embeds(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.name == "all-MiniLM-L6-v2" and minilm.dimension == 384
    vectors = minilm.embed(
        [
            "The Godfather. Genres: Crime, Drama.",
            "The Godfather: Part II. Genres: Crime, Drama.",
            "Toy Story. Genres: Animation, Children's, Comedy.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    np.testing.assert_allclose(
        minilm.embed(["The Godfather. Genres: Crime, Drama."])[0], vectors[0], atol=1e-5
    )  # deterministic
