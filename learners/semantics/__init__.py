"""Text semantics: embedding and generation backends (text in, vectors or text out)."""

from learners.semantics.embedders import (
    Embedder,
    EmbeddingError,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    packaged_model_path,
)

__all__ = [
    "Embedder",
    "EmbeddingError",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "packaged_model_path",
]
