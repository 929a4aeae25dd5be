"""Node texts out of the graph, vectors back in, and nearest-neighbour look-ups.

This module knows nothing of models: the caller turns texts into vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j
import numpy as np

from kgstore import queries
from kgstore.node_text import item_text, name_text
from kgstore.schema import EMBEDDED_LABELS, SchemaError, vector_index_dimension
from kgstore.vocabulary import Label
from kgstore.writes import run_write, write_batches

EMBEDDING = "embedding"


@dataclass(frozen=True)
class NodeText:
    """A node's current text (``None``: nothing to embed) and what its vector came from."""

    label: str
    id: str
    text: str | None
    model: str | None
    hash: str | None


@dataclass(frozen=True)
class Neighbour:
    item: str
    title: str | None
    score: float


def index_name(label: str, prop: str = EMBEDDING) -> str:
    return f"{label}_{prop}"


def read_item_rows(driver: neo4j.Driver, database: str, dataset: str) -> list[dict[str, Any]]:
    """Each item's id, title, description, named attributes, and vector provenance."""
    records, _, _ = driver.execute_query(
        queries.load("embed/item_texts"),
        dataset=dataset,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return [record.data() for record in records]


def read_texts(driver: neo4j.Driver, database: str, dataset: str) -> list[NodeText]:
    """Texts of the dataset's items, named attribute/entity nodes and relation types."""
    read = neo4j.RoutingControl.READ
    records = read_item_rows(driver, database, dataset)
    texts = [
        NodeText(
            Label.ITEM,
            r["id"],
            item_text(r["title"], r["description"], [tuple(a) for a in r["attributes"]]),
            r["model"],
            r["hash"],
        )
        for r in records
    ]
    for label in EMBEDDED_LABELS:
        if label == Label.ITEM:
            continue
        named, _, _ = driver.execute_query(
            queries.render("embed/named_texts", label=label),
            dataset=dataset,
            database_=database,
            routing_=read,
        )
        texts += [
            NodeText(label, r["id"], name_text(r["name"]), r["model"], r["hash"]) for r in named
        ]
    return texts


def check_dimension(driver: neo4j.Driver, database: str, dimension: int) -> None:
    """Every embedding index must have the model's dimension, before anything is written."""
    for label in EMBEDDED_LABELS:
        existing = vector_index_dimension(driver, database, index_name(label))
        if existing is not None and existing != dimension:
            raise SchemaError(
                f"vector index {index_name(label)} has dimension {existing} but the model "
                f"gives {dimension}; set KGREC_EMBEDDING_DIM={dimension} and re-create the "
                "indexes with `kgrec embed --reindex`"
            )


def write_vectors(
    driver: neo4j.Driver,
    database: str,
    dataset: str,
    label: str,
    ids: Sequence[str],
    vectors: np.ndarray,
    hashes: Sequence[str],
    model: str,
    batch_size: int = 500,
    progress: bool = True,
) -> None:
    """Store float32 vectors on ``label`` nodes, batched, each with its model and text hash."""
    if not len(ids) == len(vectors) == len(hashes):
        raise ValueError("ids, vectors and hashes differ in length")
    statement = queries.render("embed/set_vectors", label=label)
    dimension = int(vectors.shape[1]) if len(vectors) else 0
    batches = (
        [
            {"id": node, "vector": vector.tolist(), "hash": digest}
            for node, vector, digest in zip(
                ids[start : start + batch_size],
                vectors[start : start + batch_size],
                hashes[start : start + batch_size],
                strict=True,
            )
        ]
        for start in range(0, len(ids), batch_size)
    )
    params = {"dataset": dataset, "property": EMBEDDING, "model": model, "dimension": dimension}
    write_batches(
        driver,
        database,
        statement,
        batches,
        params,
        total=len(ids),
        desc=f"store {label} vectors",
        progress=progress,
        unit="node",
    )


def similar_items(
    driver: neo4j.Driver, database: str, dataset: str, item: str, k: int = 10
) -> list[Neighbour]:
    """Items nearest to ``item`` by text embedding (empty if the item has no vector)."""
    return _search(driver, database, "embed/similar_items", k, dataset=dataset, item=item)


def nearest_items(
    driver: neo4j.Driver, database: str, dataset: str, vector: np.ndarray, k: int = 10
) -> list[Neighbour]:
    """Items of ``dataset`` nearest to a query vector."""
    return _search(
        driver,
        database,
        "embed/nearest_items",
        k,
        dataset=dataset,
        vector=np.asarray(vector, dtype=np.float32).tolist(),
    )


MAX_CANDIDATES = 100_000
T = TypeVar("T")


def widen(search: Callable[[int], tuple[T, bool]], start: int) -> T:
    """Run ``search(candidates)`` with a growing candidate pool until it says it has enough.

    Vector indexes span every dataset in the database and Neo4j 5.26 cannot filter inside a
    vector search, so callers over-fetch and filter; ``search`` returns its result and
    whether to stop (enough hits of the dataset, or the index returned fewer than asked).
    """
    candidates = start
    while True:
        result, done = search(candidates)
        if done or candidates >= MAX_CANDIDATES:
            return result
        candidates = min(candidates * 4, MAX_CANDIDATES)


def _search(
    driver: neo4j.Driver, database: str, statement: str, k: int, **params: object
) -> list[Neighbour]:
    """The ``k`` nearest items of the dataset, widening the candidate pool as needed."""
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")

    def search(candidates: int) -> tuple[list[Neighbour], bool]:
        records, _, _ = driver.execute_query(
            queries.load(statement),
            {**params, "k": k, "index": index_name(Label.ITEM), "candidates": candidates},
            database_=database,
            routing_=neo4j.RoutingControl.READ,
        )
        if not records:
            return [], True
        found, fetched = records[0]["found"], records[0]["fetched"]
        hits = [Neighbour(f["item"], f["title"], float(f["score"])) for f in found]
        return hits, len(found) >= k or fetched < candidates

    return widen(search, max(10 * k, 100))


def items_to_describe(
    driver: neo4j.Driver, database: str, dataset: str, limit: int | None, force: bool
) -> list[tuple[str, str]]:
    records, _, _ = driver.execute_query(
        queries.load("embed/items_to_describe"),
        dataset=dataset,
        force=force,
        limit=limit if limit is not None else 2**62,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return [(r["id"], r["title"]) for r in records]


def write_descriptions(
    driver: neo4j.Driver,
    database: str,
    dataset: str,
    model: str,
    rows: Sequence[tuple[str, str]],
) -> None:
    run_write(
        driver,
        database,
        queries.load("embed/set_descriptions"),
        {
            "rows": [{"id": item, "text": text} for item, text in rows],
            "dataset": dataset,
            "model": model,
        },
    )


def user_histories(
    driver: neo4j.Driver, database: str, dataset: str, max_history: int
) -> list[tuple[str, list[str], str | None]]:
    """(user, training item ids in order, model of the stored LLM persona) per user."""
    records, _, _ = driver.execute_query(
        queries.load("embed/user_histories"),
        dataset=dataset,
        max_history=max_history,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return [(r["user"], list(r["items"]), r["model"]) for r in records]


def write_llm_personas(
    driver: neo4j.Driver,
    database: str,
    dataset: str,
    model: str,
    users: Sequence[str],
    texts: Sequence[str],
    vectors: np.ndarray,
) -> None:
    rows = [
        {"id": u, "text": t, "vector": v.tolist()}
        for u, t, v in zip(users, texts, vectors, strict=True)
    ]
    run_write(
        driver,
        database,
        queries.load("embed/set_user_vectors"),
        {
            "rows": rows,
            "dataset": dataset,
            "model": model,
            "property": "llm_persona",
        },
    )
