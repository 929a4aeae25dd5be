"""Counts per label and relationship type, for one dataset or the whole graph."""

from __future__ import annotations

from collections import Counter

from kgstore.graph import Database, Graph
from kgstore.vocabulary import Label


def graph_counts(graph: Graph) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per type of ``dataset`` (zero counts left out)."""
    nodes: dict[str, int] = {}
    relationships: Counter[str] = Counter()
    for label in Label:
        records = graph.read("stats/count_nodes", {"label": label})
        if records[0]["count"]:
            nodes[label.value] = records[0]["count"]
        records = graph.read("stats/count_relationships", {"label": label})
        for record in records:
            relationships[record["type"]] += record["count"]
    return nodes, dict(relationships)


def datasets(db: Database) -> list[dict[str, object]]:
    """Every dataset in the database, with what the Dataset node records."""
    records = db.read("stats/datasets")
    return [record.data() for record in records]
