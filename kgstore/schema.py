"""Constraints and indexes, created (idempotently) before any write."""

from __future__ import annotations

from kgstore.graph import Database
from kgstore.vocabulary import Label

# Labels that carry a text embedding (issue: LLM item semantics) and the user persona.
EMBEDDED_LABELS = (
    Label.ITEM,
    Label.ENTITY,
    Label.GENRE,
    Label.CATEGORY,
    Label.RESOURCE,
    Label.ATTRIBUTE,
    Label.RELATION,
)


class SchemaError(RuntimeError):
    """The database holds an index that contradicts the configuration."""


def apply_schema(db: Database, embedding_dim: int, persona_dim: int) -> None:
    """Uniqueness of ``(dataset, id)`` per label, a ``dataset`` index per label, vector indexes.

    Args:
        embedding_dim: dimension of item/entity text embeddings.
        persona_dim: dimension of user persona vectors.
    """
    for dim in (embedding_dim, persona_dim):
        if not 1 <= dim <= 4096:
            raise SchemaError(f"vector dimension {dim} outside 1..4096")
    for label in Label:
        db.run("schema/node_key", {"label": label})
        db.run("schema/dataset_index", {"label": label})
    vectors = [(label, "embedding", embedding_dim) for label in EMBEDDED_LABELS]
    vectors.append((Label.USER, "persona", persona_dim))
    for label, prop, dim in vectors:
        db.run("schema/vector_index", {"label": label, "property": prop}, dimensions=dim)
        _check_dimension(db, f"{label}_{prop}", dim)
    db.run("schema/await_indexes", timeout_s=300)


def vector_index_dimension(db: Database, name: str) -> int | None:
    """The dimension of vector index ``name``, or ``None`` if there is no such index."""
    records = db.read("schema/show_vector_index", name=name)
    return int(records[0]["dimensions"]) if records else None


def drop_vector_index(db: Database, label: str, prop: str) -> None:
    db.run("schema/drop_vector_index", {"label": label, "property": prop})


def _check_dimension(db: Database, name: str, dim: int) -> None:
    existing = vector_index_dimension(db, name)
    if existing is not None and existing != dim:
        raise SchemaError(
            f"vector index {name} exists with dimension {existing}, configuration says {dim}; "
            f"re-create it with `kgrec embed --reindex` (or DROP INDEX {name})"
        )
