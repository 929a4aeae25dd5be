"""A dataset's knowledge graph as RecBole's knowledge files, for KSR: the triples (``.kg``),
the item-entity links (``.link``) and TransE vectors of the entities and relations (``.ent``,
``.rel``), which KSR reads as its pretrained knowledge embeddings.

Every exported edge between two nodes that are not users is a triple (the interactions are
RecBole's ``.inter``); each item is an entity of its own (``Item:<id>``), linked to itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from kgstore.export import GraphExport
from learners.kge import transe
from recommender.util.hashing import array_digest

USER = "User"
KG_DIM = 64  # KSR's kg_embedding_size default


@dataclass(frozen=True)
class KnowledgeFiles:
    """Entity tokens, relation names, the triples over them and their TransE vectors, which
    are learned on first use (a run whose peers are all kept never trains TransE)."""

    entities: np.ndarray  # (n,) str, "Label:id"
    relations: np.ndarray  # (r,) str
    triples: np.ndarray  # (m, 3) int: head, relation, tail
    items: np.ndarray  # (i,) str: the item ids, each linked to entity "Item:<id>"
    dim: int = KG_DIM
    seed: int = 0
    progress: bool = True

    @cached_property
    def digest(self) -> str:
        """Names what the files hold (for keeping peer runs): the triples over their
        entities, and the settings TransE learns its vectors with."""
        settings = np.array([self.dim, self.seed], np.int64)
        return array_digest(self.triples, settings, np.array(list(self.entities), dtype=str))

    @cached_property
    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        entities, relations, _ = transe(
            self.triples, len(self.entities), len(self.relations), self.dim, seed=self.seed,
            progress=self.progress,
        )  # fmt: skip
        return entities, relations

    @property
    def entity_vectors(self) -> np.ndarray:
        return self._vectors[0]

    @property
    def relation_vectors(self) -> np.ndarray:
        return self._vectors[1]

    def write(self, folder: Path, name: str) -> None:
        """``name.kg``, ``name.link``, ``name.ent`` and ``name.rel`` in ``folder/name``."""
        out = folder / name
        out.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(
            {
                "head_id:token": self.entities[self.triples[:, 0]],
                "relation_id:token": self.relations[self.triples[:, 1]],
                "tail_id:token": self.entities[self.triples[:, 2]],
            }
        ).to_csv(out / f"{name}.kg", sep="\t", index=False)
        pd.DataFrame(
            {"item_id:token": self.items, "entity_id:token": [f"Item:{i}" for i in self.items]}
        ).to_csv(out / f"{name}.link", sep="\t", index=False)
        for suffix, tokens, vectors in (
            ("ent", self.entities, self.entity_vectors),
            ("rel", self.relations, self.relation_vectors),
        ):
            pd.DataFrame(
                {
                    f"{suffix}_id:token": tokens,
                    f"{suffix}_emb:float_seq": [
                        " ".join(f"{v:.6g}" for v in row) for row in vectors
                    ],
                }
            ).to_csv(out / f"{name}.{suffix}", sep="\t", index=False)


def knowledge_files(
    export: GraphExport, dim: int = KG_DIM, seed: int = 0, progress: bool = True
) -> KnowledgeFiles | None:
    """The export's knowledge graph (TransE vectors learned on first use); None where it
    has no edge beside the interactions (no knowledge for KSR to use)."""
    offsets: dict[str, int] = {}
    tokens: list[str] = []
    for label, ids in export.ids.items():
        if label == USER:
            continue
        offsets[label] = len(tokens)
        tokens += [f"{label}:{node}" for node in ids]
    relations: list[str] = []
    parts = []
    for (head, rel, tail), index in sorted(export.edges.items()):
        if USER in (head, tail) or not index.shape[1]:
            continue
        if rel not in relations:
            relations.append(rel)
        part = np.stack(
            [index[0] + offsets[head], np.full(index.shape[1], relations.index(rel)),
             index[1] + offsets[tail]],
            axis=1,
        )  # fmt: skip
        parts.append(part)
    if not parts:
        return None
    return KnowledgeFiles(
        np.array(tokens, dtype=object),
        np.array(relations, dtype=object),
        np.concatenate(parts).astype(np.int64),
        np.asarray(export.ids["Item"], dtype=str),
        dim,
        seed,
        progress,
    )
