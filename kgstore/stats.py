"""Counts per label and relationship type, for one dataset or the whole graph."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

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


@dataclass(frozen=True)
class DatasetState:
    """Where one dataset stands in the pipeline, as its graph records it."""

    dataset: str
    ingested_at: str | None  # None until an ingest has finished every phase once
    unfinished_phases: int  # phases an ingest started and did not finish
    split_sha256: str | None
    users: int
    items: int
    embedded_items: int  # items with a text vector (none where items have no text)
    relations: int
    embedded_relations: int  # relation types with a text vector (`kgrec embed` made them)
    persona_version: str | None
    persona_model: str | None
    with_persona: int  # users holding a persona of the published version


def dataset_state(graph: Graph) -> DatasetState | None:
    """The dataset's state, or None when the graph does not hold it."""
    records = graph.read("stats/pipeline")
    if not records:
        return None
    r = records[0]
    return DatasetState(
        dataset=graph.dataset,
        ingested_at=r["ingested_at"],
        unfinished_phases=len(set(r["phases_started"]) - set(r["phases_done"])),
        split_sha256=r["split_sha256"],
        users=r["users"],
        items=r["items"],
        embedded_items=r["embedded_items"],
        relations=r["relations"],
        embedded_relations=r["embedded_relations"],
        persona_version=r["persona_version"],
        persona_model=r["persona_model"],
        with_persona=r["with_persona"],
    )
