"""Node texts out of the graph, vectors back in, and nearest-neighbour look-ups.

This module knows nothing of models: the caller turns texts into vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from kgstore.graph import Database, Graph
from kgstore.node_text import item_text, name_text
from kgstore.schema import EMBEDDED_LABELS, SchemaError, vector_index_dimension
from kgstore.vocabulary import Label

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


def read_item_rows(graph: Graph) -> list[dict[str, Any]]:
    """Each item's id, title, description, named attributes, and vector provenance."""
    return [record.data() for record in graph.read("embed/item_texts")]


def read_texts(graph: Graph) -> list[NodeText]:
    """Texts of the dataset's items, named attribute/entity nodes and relation types."""
    records = read_item_rows(graph)
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
        named = graph.read("embed/named_texts", {"label": label})
        texts += [
            NodeText(label, r["id"], name_text(r["name"]), r["model"], r["hash"]) for r in named
        ]
    return texts


def check_dimension(db: Database, dimension: int) -> None:
    """Every embedding index must have the model's dimension, before anything is written."""
    for label in EMBEDDED_LABELS:
        existing = vector_index_dimension(db, index_name(label))
        if existing is not None and existing != dimension:
            raise SchemaError(
                f"vector index {index_name(label)} has dimension {existing} but the model "
                f"gives {dimension}; set KGREC_EMBEDDING_DIM={dimension} and re-create the "
                "indexes with `kgrec embed --reindex`"
            )


def write_vectors(
    graph: Graph,
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
    statement = graph.statement("embed/set_vectors", {"label": label})
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
    graph.write_rows(
        statement,
        batches,
        total=len(ids),
        desc=f"store {label} vectors",
        progress=progress,
        unit="node",
        property=EMBEDDING,
        model=model,
        dimension=dimension,
    )


def similar_items(graph: Graph, item: str, k: int = 10) -> list[Neighbour]:
    """Items nearest to ``item`` by text embedding (empty if the item has no vector)."""
    return _search(graph, "embed/similar_items", k, item=item)


def nearest_items(graph: Graph, vector: np.ndarray, k: int = 10) -> list[Neighbour]:
    """Items of the dataset nearest to a query vector."""
    return _search(
        graph, "embed/nearest_items", k, vector=np.asarray(vector, dtype=np.float32).tolist()
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


def _search(graph: Graph, statement: str, k: int, **params: object) -> list[Neighbour]:
    """The ``k`` nearest items of the dataset, widening the candidate pool as needed."""
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")

    def search(candidates: int) -> tuple[list[Neighbour], bool]:
        records = graph.read(
            statement, **params, k=k, index=index_name(Label.ITEM), candidates=candidates
        )
        if not records:
            return [], True
        found, fetched = records[0]["found"], records[0]["fetched"]
        hits = [Neighbour(f["item"], f["title"], float(f["score"])) for f in found]
        return hits, len(found) >= k or fetched < candidates

    return widen(search, max(10 * k, 100))


def items_to_describe(graph: Graph, limit: int | None, force: bool) -> list[tuple[str, str]]:
    """(id, title) of items to describe: those without a description, all with ``force``."""
    records = graph.read(
        "embed/items_to_describe", force=force, limit=limit if limit is not None else 2**62
    )
    return [(r["id"], r["title"]) for r in records]


def write_descriptions(graph: Graph, model: str, rows: Sequence[tuple[str, str]]) -> None:
    graph.write(
        "embed/set_descriptions",
        rows=[{"id": item, "text": text} for item, text in rows],
        model=model,
    )


def user_histories(graph: Graph, max_history: int) -> list[tuple[str, list[str], str | None]]:
    """(user, training item ids in order, model of the stored LLM persona) per user."""
    records = graph.read("embed/user_histories", max_history=max_history)
    return [(r["user"], list(r["items"]), r["model"]) for r in records]


def write_llm_personas(
    graph: Graph,
    model: str,
    users: Sequence[str],
    texts: Sequence[str],
    vectors: np.ndarray,
) -> None:
    rows = [
        {"id": u, "text": t, "vector": v.tolist()}
        for u, t, v in zip(users, texts, vectors, strict=True)
    ]
    graph.write("embed/set_user_vectors", rows=rows, model=model, property="llm_persona")
