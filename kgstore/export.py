"""Typed subgraphs out of Neo4j into arrays: per label an id map and a feature matrix, per
relationship type an edge index. Cached on disk by the dataset's graph version.

Memory is linear in nodes and edges; edges stream in chunks of head nodes, and ids become
integer indices through vectorised pandas look-ups (no per-edge Python loop).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from tqdm import tqdm

from kgstore.graph import Graph
from kgstore.vocabulary import Label, check_label, check_relationship_type, is_reserved_property

EdgeType = tuple[str, str, str]
EXPORT_LABELS = tuple(label for label in Label if label not in (Label.DATASET, Label.RELATION))
HEAD_CHUNK = 5_000
VECTOR_PAGE = 5_000  # nodes per read of their vectors


class ExportError(RuntimeError):
    """The graph cannot be exported as asked (no such dataset, no users, ...)."""


@dataclass
class GraphExport:
    """A dataset's graph as arrays.

    Attributes:
        ids: label -> node ids (object array); row ``k`` of every array of that label is node
            ``ids[label][k]``.
        features: label -> float32 ``(n, d)`` embeddings, zero rows where a node has none.
        has_feature: label -> bool ``(n,)``, True where the node had an embedding.
        edges: ``(head label, type, tail label)`` -> int64 ``(2, m)`` row indices.
    """

    dataset: str
    version: str
    ids: dict[str, np.ndarray] = field(default_factory=dict)
    features: dict[str, np.ndarray] = field(default_factory=dict)
    has_feature: dict[str, np.ndarray] = field(default_factory=dict)
    edges: dict[EdgeType, np.ndarray] = field(default_factory=dict)

    @property
    def has_item_text(self) -> bool:
        """Whether any item has a text vector (a catalogue of bare ids has none)."""
        found = self.has_feature.get(Label.ITEM.value)
        return found is not None and bool(found.any())

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        nodes = {label: len(ids) for label, ids in self.ids.items() if len(ids)}
        rels: dict[str, int] = {}
        for (_, rel, _), index in self.edges.items():
            rels[rel] = rels.get(rel, 0) + index.shape[1]
        return nodes, rels

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for label in self.ids:
            arrays[f"ids/{label}"] = self.ids[label].astype(str)
            arrays[f"features/{label}"] = self.features[label]
            arrays[f"has_feature/{label}"] = self.has_feature[label]
        for key, index in self.edges.items():
            arrays["edges/" + "|".join(key)] = index
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, **cast(dict[str, Any], arrays))
        partial.replace(path)
        path.with_suffix(".json").write_text(
            json.dumps({"dataset": self.dataset, "version": self.version}), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path) -> GraphExport:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        export = cls(meta["dataset"], meta["version"])
        with np.load(path, allow_pickle=False) as arrays:
            for name in arrays.files:
                kind, _, key = name.partition("/")
                if kind == "ids":
                    export.ids[key] = arrays[name].astype(object)
                elif kind == "features":  # float32 as documented, whatever it was saved as
                    export.features[key] = arrays[name].astype(np.float32, copy=False)
                elif kind == "has_feature":
                    export.has_feature[key] = arrays[name]
                else:
                    head, rel, tail = key.split("|")
                    export.edges[(head, rel, tail)] = arrays[name]
        return export


def graph_version(graph: Graph) -> str:
    records = graph.read("export/read_version")
    if not records:
        raise ExportError(f"dataset {graph.dataset!r} is not in the graph; run kgrec ingest first")
    version = records[0]["version"]
    return str(version) if version else bump_version(graph)


def bump_version(graph: Graph) -> str:
    """Mark the dataset's graph as changed; callers do this after every content write."""
    version = uuid.uuid4().hex[:16]
    graph.run("load/bump_version", version=version)
    return version


def export_graph(
    graph: Graph,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> GraphExport:
    """The dataset's graph as arrays, from the cache when the graph has not changed.

    Raises:
        ExportError: no such dataset, no users, or no user with interactions.
    """
    version = graph_version(graph)
    dataset = graph.dataset
    cached = cache_dir / f"{dataset}-{version}.npz" if cache_dir else None
    if cached is not None and cached.exists():
        return GraphExport.load(cached)
    export = GraphExport(dataset, version)
    for label in tqdm(EXPORT_LABELS, desc="export nodes", disable=not progress, leave=False):
        ids, matrix, present = read_node_vectors(graph, label)
        if len(ids):
            export.ids[label.value] = ids
            export.features[label.value], export.has_feature[label.value] = matrix, present
    if not len(export.ids.get(Label.USER, [])):
        raise ExportError(f"dataset {graph.dataset!r} has no users; personas need users")
    edge_types: list[tuple[EdgeType, int]] = []
    for head in export.ids:
        records = graph.read("export/edge_types", {"label": check_label(head)})
        edge_types += [
            ((head, r["type"], r["tail"]), r["count"]) for r in records if r["tail"] in export.ids
        ]
    total = sum(count for _, count in edge_types)
    with tqdm(
        total=total, desc="export edges", unit="edge", disable=not progress, leave=False
    ) as bar:
        for key, _ in sorted(edge_types):
            export.edges[key] = _edges(graph, key, export.ids, bar)
    if not any(head == Label.USER for head, _, _ in export.edges):
        raise ExportError(f"no user of {graph.dataset!r} has a training interaction")
    if cached is not None:
        export.save(cached)
    return export


def read_node_vectors(
    graph: Graph, label: str, prop: str = "embedding"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, a float32 matrix (zero rows where a node has no vector) and a presence mask for
    one vector property (``embedding``, ``persona``, ``llm_persona``) of one label."""
    ids: list[str] = []
    pages: list[tuple[np.ndarray, np.ndarray]] = []  # each page as arrays at once
    slots = {"label": label, "property": prop}
    for page in graph.read_pages("export/nodes", slots, page=VECTOR_PAGE):
        ids += page["ids"]
        pages.append(_features(page["vectors"]))
    dims = {matrix.shape[1] for matrix, present in pages if present.any()}
    if len(dims) > 1:
        raise ExportError(f"embeddings of several dimensions {sorted(dims)}; run kgrec embed")
    matrix = np.zeros((len(ids), dims.pop() if dims else 0), dtype=np.float32)
    present = np.zeros(len(ids), dtype=bool)
    start = 0
    for part, there in pages:
        if there.any():
            matrix[start : start + len(there)] = part
        present[start : start + len(there)] = there
        start += len(there)
    return np.array(ids, dtype=object), matrix, present


def read_user_properties(graph: Graph) -> pd.DataFrame:
    """What the dataset says about its users (age, gender, occupation...): one row per user
    id, one text column per scalar property of the User nodes that kgrec did not write.
    Neither HDGI nor the export reads them, so they are held out from the personas."""
    records = graph.read("export/user_properties")
    rows = {
        record["id"]: {
            key: value
            for key, value in record["properties"]
            if not is_reserved_property(key)  # kgrec's own; the rest came with the dataset
        }
        for record in records
    }
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=1)


def count_vectors(graph: Graph, label: str, prop: str) -> int:
    """How many nodes of ``label`` have the vector property ``prop`` (no vectors read)."""
    records = graph.read("export/count_vectors", {"label": label, "property": prop})
    return int(records[0]["count"])


def _features(embeddings: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows aligned with the ids; ``[]`` marks a node without an embedding."""
    present = np.array([len(e) > 0 for e in embeddings], dtype=bool)
    if not present.any():
        return np.zeros((len(embeddings), 0), dtype=np.float32), present
    dims = {len(e) for e in embeddings if e}
    if len(dims) > 1:
        raise ExportError(f"embeddings of several dimensions {sorted(dims)}; run kgrec embed")
    matrix = np.zeros((len(embeddings), dims.pop()), dtype=np.float32)
    matrix[present] = np.array([e for e in embeddings if e], dtype=np.float32)
    return matrix, present


def _edges(
    graph: Graph,
    key: EdgeType,
    ids: dict[str, np.ndarray],
    bar: tqdm,  # type: ignore[type-arg]
) -> np.ndarray:
    head, rel, tail = key
    statement = graph.statement(
        "export/edges",
        {
            "head": check_label(head),
            "type": check_relationship_type(rel),
            "tail": check_label(tail),
        },
    )
    head_index, tail_index = pd.Index(ids[head]), pd.Index(ids[tail])
    parts = []
    for start in range(0, len(ids[head]), HEAD_CHUNK):
        chunk = ids[head][start : start + HEAD_CHUNK].tolist()
        records = graph.read_text(statement, heads=chunk)
        heads, tails = records[0]["heads"], records[0]["tails"]
        lengths = np.fromiter((len(t) for t in tails), dtype=np.int64, count=len(tails))
        rows = np.repeat(head_index.get_indexer(heads), lengths)
        cols = tail_index.get_indexer(list(chain.from_iterable(tails)))
        parts.append(np.vstack([rows, cols]))
        bar.update(int(lengths.sum()))
    return np.hstack(parts).astype(np.int64) if parts else np.zeros((2, 0), dtype=np.int64)
