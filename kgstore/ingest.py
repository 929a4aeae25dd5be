"""Batched, idempotent, resumable ingestion of a canonical dataset into Neo4j.

Every write is ``UNWIND $rows`` in a managed write transaction (retried on transient errors)
that first claims its batch on the ``Dataset`` node, so a retried batch whose commit went
through writes nothing again. Finished phases are recorded on the ``Dataset`` node: a re-run
skips them, a run killed mid-phase redoes that phase with ``MERGE``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from kgstore import queries
from kgstore.datasets.canonical import CanonicalDataset
from kgstore.export import bump_version
from kgstore.graph import Database, Graph, batch_prefix
from kgstore.schema import apply_schema
from kgstore.splits import save_split
from kgstore.vocabulary import INTERACTED, Label, check_label, check_relationship_type

DEFAULT_BATCH_SIZE = 10_000
ID_PAGE = 50_000  # ids (and element ids) per read
T = TypeVar("T")


class IngestError(RuntimeError):
    """The graph already holds a different version of the dataset."""


@dataclass
class PhaseTiming:
    phase: str
    rows: int
    seconds: float
    skipped: bool = False


@dataclass
class IngestReport:
    dataset: str
    phases: list[PhaseTiming] = field(default_factory=list)

    @property
    def relationships_per_second(self) -> float:
        rel = [p for p in self.phases if p.phase.startswith("rel:") and not p.skipped]
        seconds = sum(p.seconds for p in rel)
        return sum(p.rows for p in rel) / seconds if seconds else 0.0


def fingerprint(data: CanonicalDataset) -> str:
    """Content hash of the canonical dataset: a changed input is never mixed with an old one."""
    digest = hashlib.sha256(data.name.encode())
    for frame in (data.interactions, data.users, data.items, data.entities, data.triples):
        digest.update(str(list(frame.columns)).encode())
        digest.update(
            pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes()
        )
    return digest.hexdigest()


class Ingestor:
    """Writes canonical datasets into one Neo4j database.

    Args:
        db: the target database (the caller owns its driver).
        home: project state folder; the split is recorded under ``home/splits``.
        embedding_dim: dimension for the item/entity vector indexes.
        persona_dim: dimension for the user persona vector index.
        batch_size: rows per transaction (default ``10000``).
        progress: show progress bars (default ``True``).
    """

    def __init__(
        self,
        db: Database,
        home: Path,
        embedding_dim: int,
        persona_dim: int,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.db = db
        self.home = home
        self.batch_size = batch_size
        self.progress = progress
        self.embedding_dim = embedding_dim
        self.persona_dim = persona_dim

    def ingest(self, data: CanonicalDataset, force: bool = False) -> IngestReport:
        """Load ``data``; phases already done for the same content are skipped unless ``force``.

        A phase never started before is written with ``CREATE`` (fast); a phase that was
        started but did not finish (a killed run), or any phase under ``force``, is written
        with ``MERGE``, so nothing is ever duplicated.
        """
        report = IngestReport(data.name)
        plan = list(self._plan(data))  # validates every label and type before any query
        graph = self.db.graph(data.name)
        apply_schema(self.db, self.embedding_dim, self.persona_dim)
        digest = fingerprint(data)
        started, done = _progress(graph, digest)
        split_file, split_sha = save_split(data, self.home)
        nodes, relationships = data.expected_counts()
        graph.write(
            "load/upsert_dataset",
            props={
                "fingerprint": digest,
                "split_file": str(split_file),
                "split_sha256": split_sha,
                "expected_nodes": _as_pairs(nodes),
                "expected_relationships": _as_pairs(relationships),
            },
        )
        element_ids: dict[str, dict[str, str]] = {}
        for phase in plan:
            if phase.name in done and not force:
                report.phases.append(PhaseTiming(phase.name, len(phase.frame), 0.0, skipped=True))
                continue
            merge = force or phase.name in started
            began = time.perf_counter()
            graph.write("load/mark_phase_started", phase=phase.name)
            rows: Sequence[dict[str, Any]]
            if phase.head is None:
                rows = _node_rows(phase.frame)
                statement = queries.render(
                    "load/upsert_nodes" if merge else "load/create_nodes", label=phase.label
                )
            else:
                for label in (phase.head, phase.label):
                    if label not in element_ids:
                        element_ids[label] = _element_ids(graph, label)
                rows = _RelationshipRows(
                    _relationship_frame(phase, element_ids[phase.head], element_ids[phase.label])
                )
                statement = _relationship_statement(phase, merge)
            graph.write_rows(
                statement,
                chunks(rows, self.batch_size),
                total=len(rows),
                desc=phase.name,
                progress=self.progress,
                key=phase.name,
            )
            graph.write(
                "load/mark_phase_done", phase=phase.name, batch_prefix=batch_prefix(phase.name)
            )
            report.phases.append(PhaseTiming(phase.name, len(rows), time.perf_counter() - began))
        graph.write(
            "load/upsert_dataset",
            props={
                "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        if any(not phase.skipped for phase in report.phases):
            bump_version(graph)
        return report

    def drop(self, dataset: str) -> None:
        """Delete every node (and relationship) of ``dataset``, in batches, the ``Dataset``
        node last: a drop that is interrupted leaves the dataset visible (``kgrec stats``)
        and refused by ``ingest``, and running it again finishes it."""
        order = [label for label in Label if label != Label.DATASET] + [Label.DATASET]
        with self.db.driver.session(database=self.db.database) as session:
            for label in order:
                session.run(
                    queries.render("load/delete_label", label=label),
                    dataset=dataset,
                    batch_size=self.batch_size,
                ).consume()

    def _plan(self, data: CanonicalDataset) -> Iterator[Phase]:
        yield Phase("node:User", Label.USER, data.users)
        yield Phase("node:Item", Label.ITEM, data.items)
        yield Phase("node:Relation", Label.RELATION, data.relations())
        for label, frame in data.entities.groupby("label", sort=True):
            yield Phase(f"node:{label}", check_label(str(label)), frame.drop(columns="label"))
        groups = data.triples.groupby(["head_label", "type", "tail_label"], sort=True)
        for (head, rel, tail), frame in groups:
            yield Phase(
                f"rel:{head}-{rel}-{tail}",
                check_label(str(tail)),
                frame[["head", "tail"]],
                head=check_label(str(head)),
                type=check_relationship_type(str(rel)),
            )
        edges = data.train_edges().rename(columns={"user": "head", "item": "tail"})
        yield Phase(
            f"rel:User-{INTERACTED}-Item", Label.ITEM, edges, head=Label.USER, type=INTERACTED
        )


def _progress(graph: Graph, digest: str) -> tuple[set[str], set[str]]:
    """The phases started and done by earlier runs on the same content."""
    records = graph.read("load/read_dataset")
    if not records:
        return set(), set()
    if records[0]["fingerprint"] != digest:
        raise IngestError(
            f"the graph holds a different version of dataset {graph.dataset!r}; run "
            f"`kgrec drop {graph.dataset}` first, or ingest with --replace or another --name"
        )
    return set(records[0]["phases_started"]), set(records[0]["phases_done"])


def _element_ids(graph: Graph, label: str) -> dict[str, str]:
    """id -> elementId for one label; element ids are stable while the nodes exist."""
    found: dict[str, str] = {}
    for page in graph.read_pages("load/element_ids", {"label": label}, page=ID_PAGE):
        found.update(zip(page["ids"], page["element_ids"], strict=True))
    return found


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Phase:
    """One unit of resumable work: the nodes of one label, or the relationships of one type
    between two labels (``head`` -> ``label``)."""

    name: str
    label: str
    frame: pd.DataFrame
    head: str | None = None
    type: str | None = None


def _relationship_statement(phase: Phase, merge: bool) -> str:
    mode = "merge" if merge else "create"
    if phase.type == INTERACTED:
        return queries.load(f"load/{mode}_interactions")
    assert phase.head is not None and phase.type is not None
    return queries.render(
        f"load/{mode}_relationships", head=phase.head, type=phase.type, tail=phase.label
    )


def _clean(value: Any) -> Any:
    """Neo4j properties cannot hold NaN-as-missing or numpy scalars."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, list | str):
        return value.item()
    return value


def _node_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    props = [c for c in frame.columns if c != "id"]
    rows = []
    for record in frame.to_dict("records"):
        rows.append(
            {
                "id": str(record["id"]),
                "props": {key: _clean(record[key]) for key in props},
            }
        )
    return rows


def _relationship_frame(
    phase: Phase, head_ids: dict[str, str], tail_ids: dict[str, str]
) -> pd.DataFrame:
    """The phase's rows keyed by element id (``h``, ``t`` and the properties); an endpoint
    missing from the graph is an error, not a skip."""
    # Sorted by endpoints: consecutive writes touch the same nodes (locks, page cache).
    frame = phase.frame.sort_values(["head", "tail"], kind="stable")
    frame["h"] = frame["head"].map(head_ids)
    frame["t"] = frame["tail"].map(tail_ids)
    missing = frame[frame["h"].isna() | frame["t"].isna()]
    if len(missing):
        first = missing.iloc[0]
        raise IngestError(
            f"{phase.name}: {len(missing)} relationships point at nodes missing from the graph "
            f"(first: {first['head']!r} -> {first['tail']!r})"
        )
    return frame.drop(columns=["head", "tail"]).reset_index(drop=True)


class _RelationshipRows(Sequence[dict[str, Any]]):
    """The rows of a relationship frame as dicts, made a slice at a time: a batch exists as
    Python objects only while it is written, not the whole phase at once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        part = self.frame.iloc[index]
        values = [_native_list(part[column]) for column in part.columns]
        return [dict(zip(part.columns, row, strict=True)) for row in zip(*values, strict=True)]


def _native_list(column: pd.Series) -> list[Any]:
    """Python values with missing as ``None`` (Neo4j stores no NaN-as-missing)."""
    return [None if value is None or value != value else value for value in column.tolist()]


def _as_pairs(counts: dict[str, int]) -> list[str]:
    """Counts as ``"Label=N"`` strings (Neo4j properties cannot hold maps)."""
    return [f"{key}={value}" for key, value in sorted(counts.items())]
