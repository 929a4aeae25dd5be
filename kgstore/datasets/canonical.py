"""The canonical dataset every adapter produces and every later stage consumes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from kgstore.vocabulary import INTERACTED, Label, readable_relation

SPLITS = ("train", "valid", "test")
TRIPLE_COLUMNS = ["head", "head_label", "type", "tail", "tail_label"]
ENTITY_COLUMNS = ["id", "label", "name"]


def concat_frames(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """``parts`` one under the other with ``columns`` only; an empty frame of those (text)
    columns when there are none."""
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    return pd.concat(parts, ignore_index=True)[columns]


class DatasetError(ValueError):
    """Malformed input, always naming the file and (where there is one) the line."""

    def __init__(self, path: object, line: int | None, message: str) -> None:
        location = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{location}: {message}")
        self.path = str(path)
        self.line = line


@dataclass(frozen=True)
class CanonicalDataset:
    """One dataset, ready to split and ingest.

    Attributes:
        name: namespace of every node in the graph (``dataset`` property).
        interactions: ``user, item, rating, timestamp, position, split``; ``position`` is the
            row's order in its source file, ``split`` is one of train/valid/test.
        users: ``id`` plus user properties.
        items: ``id, title`` plus item properties (``entity``: the linked KG entity, if any).
        entities: ``id, label, name``; ``label`` is a :class:`~kgstore.vocabulary.Label`.
        triples: ``head, head_label, type, tail, tail_label``: typed item/entity relations,
            without duplicates.
        notes: what the adapter kept, merged or could not use, for the summary.
    """

    name: str
    interactions: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    entities: pd.DataFrame
    triples: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def train_edges(self) -> pd.DataFrame:
        """Distinct user-item pairs of the training split: the graph's INTERACTED edges.

        A pair seen several times keeps its latest rating and position and a ``count``.
        """
        train = self.interactions[self.interactions["split"] == "train"]
        grouped = train.sort_values("position").groupby(["user", "item"], sort=False)
        edges = grouped.agg(
            rating=("rating", "last"),
            timestamp=("timestamp", "last"),
            position=("position", "last"),
            count=("position", "size"),
        )
        return edges.reset_index()

    def relations(self) -> pd.DataFrame:
        """One row per relationship type present (``id, name``): the ``Relation`` nodes."""
        types = sorted(
            set(self.triples["type"]) | ({INTERACTED} if len(self.train_edges()) else set())
        )
        return pd.DataFrame({"id": types, "name": [readable_relation(t) for t in types]})

    def expected_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Node counts per label and relationship counts per type that ingestion must produce."""
        nodes: Counter[str] = Counter()
        nodes[Label.DATASET.value] = 1
        nodes[Label.USER.value] = len(self.users)
        nodes[Label.ITEM.value] = len(self.items)
        nodes.update(self.entities["label"].tolist())
        nodes[Label.RELATION.value] = len(self.relations())
        relationships: Counter[str] = Counter(self.triples["type"].tolist())
        relationships[INTERACTED] = len(self.train_edges())
        return dict(nodes), {k: v for k, v in relationships.items() if v}

    def summary(self) -> str:
        counts = self.interactions["split"].value_counts()
        lines = [
            f"dataset {self.name}",
            f"  users {len(self.users):,}  items {len(self.items):,}  "
            f"entities {len(self.entities):,}  triples {len(self.triples):,}",
            f"  interactions {len(self.interactions):,} "
            + " ".join(f"{split}={int(counts.get(split, 0)):,}" for split in SPLITS),
        ]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)
