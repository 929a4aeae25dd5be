"""Constraints and indexes, created (idempotently) before any write."""

from __future__ import annotations

import neo4j

from kgstore import queries
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


def apply_schema(
    driver: neo4j.Driver, database: str, embedding_dim: int = 384, persona_dim: int = 64
) -> None:
    """Uniqueness of ``(dataset, id)`` per label, a ``dataset`` index per label, vector indexes.

    Args:
        embedding_dim: dimension of item/entity text embeddings (default ``384``).
        persona_dim: dimension of user persona vectors (default ``64``).
    """
    for dim in (embedding_dim, persona_dim):
        if not 1 <= dim <= 4096:
            raise SchemaError(f"vector dimension {dim} outside 1..4096")
    for label in Label:
        driver.execute_query(queries.render("schema/node_key", label=label), database_=database)
        driver.execute_query(
            queries.render("schema/dataset_index", label=label), database_=database
        )
    vectors = [(label, "embedding", embedding_dim) for label in EMBEDDED_LABELS]
    vectors.append((Label.USER, "persona", persona_dim))
    for label, prop, dim in vectors:
        driver.execute_query(
            queries.render("schema/vector_index", label=label, property=prop),
            dimensions=dim,
            database_=database,
        )
        _check_dimension(driver, database, f"{label}_{prop}", dim)
    driver.execute_query(queries.load("schema/await_indexes"), timeout_s=300, database_=database)


def vector_index_dimension(driver: neo4j.Driver, database: str, name: str) -> int | None:
    """The dimension of vector index ``name``, or ``None`` if there is no such index."""
    records, _, _ = driver.execute_query(
        queries.load("schema/show_vector_index"),
        name=name,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return int(records[0]["dimensions"]) if records else None


def drop_vector_index(driver: neo4j.Driver, database: str, label: str, prop: str) -> None:
    driver.execute_query(
        queries.render("schema/drop_vector_index", label=label, property=prop), database_=database
    )


def _check_dimension(driver: neo4j.Driver, database: str, name: str, dim: int) -> None:
    existing = vector_index_dimension(driver, database, name)
    if existing is not None and existing != dim:
        raise SchemaError(
            f"vector index {name} exists with dimension {existing}, configuration says {dim}; "
            f"re-create it with `kgrec embed --reindex` (or DROP INDEX {name})"
        )
