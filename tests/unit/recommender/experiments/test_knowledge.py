"""The graph's knowledge as RecBole's files for KSR: every non-user edge a triple, each item
linked to its own entity, TransE vectors for every entity and relation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kgstore.export import GraphExport
from recommender.experiments.peers.knowledge import knowledge_files


def export(with_knowledge: bool = True) -> GraphExport:
    edges = {("User", "INTERACTED", "Item"): np.array([[0, 1], [0, 2]])}
    if with_knowledge:
        edges[("Item", "HAS_GENRE", "Genre")] = np.array([[0, 1, 2], [0, 0, 1]])
        edges[("Item", "FILM_SEQUEL", "Item")] = np.array([[0], [1]])
    return GraphExport(
        "toy",
        "v1",
        ids={
            "User": np.array(["u0", "u1"], object),
            "Item": np.array(["a", "b", "c"], object),
            "Genre": np.array(["Drama", "Noir"], object),
        },
        edges=edges,
    )


def test_every_non_user_edge_is_a_triple_with_vectors(tmp_path: Path) -> None:
    found = knowledge_files(export(), dim=8, progress=False)
    assert found is not None
    named = {
        (found.entities[h], found.relations[r], found.entities[t]) for h, r, t in found.triples
    }
    assert named == {
        ("Item:a", "FILM_SEQUEL", "Item:b"),
        ("Item:a", "HAS_GENRE", "Genre:Drama"),
        ("Item:b", "HAS_GENRE", "Genre:Drama"),
        ("Item:c", "HAS_GENRE", "Genre:Noir"),
    }
    assert found.entity_vectors.shape == (5, 8) and found.relation_vectors.shape == (2, 8)
    found.write(tmp_path, "kgrec")
    kg = pd.read_csv(tmp_path / "kgrec" / "kgrec.kg", sep="\t")
    assert list(kg.columns) == ["head_id:token", "relation_id:token", "tail_id:token"]
    assert len(kg) == 4
    link = pd.read_csv(tmp_path / "kgrec" / "kgrec.link", sep="\t")
    assert link.values.tolist() == [["a", "Item:a"], ["b", "Item:b"], ["c", "Item:c"]]
    ent = pd.read_csv(tmp_path / "kgrec" / "kgrec.ent", sep="\t")
    assert len(ent) == 5 and len(ent["ent_emb:float_seq"][0].split()) == 8
    again = knowledge_files(export(), dim=8, progress=False)
    assert again is not None and again.digest == found.digest  # seeded: the same vectors


def test_a_graph_with_interactions_only_has_no_knowledge() -> None:
    assert knowledge_files(export(with_knowledge=False), progress=False) is None
