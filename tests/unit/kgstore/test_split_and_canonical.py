from __future__ import annotations

import math

import pandas as pd

from kgstore.datasets.canonical import CanonicalDataset
from kgstore.datasets.split import leave_one_out


def frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["user", "item", "timestamp"])
    out["rating"] = 1.0
    out["position"] = range(len(out))
    return out


def splits_of(result: pd.DataFrame, user: str) -> list[tuple[str, str]]:
    part = result[result["user"] == user].sort_values("position")
    return list(zip(part["item"], part["split"], strict=True))


def test_chronological_with_ties_broken_by_file_order() -> None:
    # File order differs from time order; d and c share a timestamp and d comes first in the file.
    result = leave_one_out(
        frame(
            [
                ("u", "d", 30.0),
                ("u", "a", 10.0),
                ("u", "c", 30.0),
                ("u", "b", 20.0),
            ]
        )
    )
    by_item = dict(splits_of(result, "u"))
    assert by_item == {"a": "train", "b": "train", "d": "valid", "c": "test"}


def test_file_order_when_there_are_no_timestamps() -> None:
    result = leave_one_out(frame([(u, i, math.nan) for u in "xy" for i in "pqrs"]))
    assert splits_of(result, "x") == [("p", "train"), ("q", "train"), ("r", "valid"), ("s", "test")]


def test_users_with_fewer_than_three_interactions_only_train() -> None:
    result = leave_one_out(frame([("a", "p", 1.0), ("a", "q", 2.0), ("b", "p", 1.0)]))
    assert set(result["split"]) == {"train"}


def test_rows_keep_file_order_and_every_row_gets_a_split() -> None:
    source = frame([("u", "a", 3.0), ("v", "b", 1.0), ("u", "c", 1.0), ("u", "e", 2.0)])
    result = leave_one_out(source)
    assert list(result["position"]) == [0, 1, 2, 3]
    assert result["split"].notna().all()


def test_train_edges_collapse_repeats_and_expected_counts() -> None:
    interactions = frame(
        [
            ("u", "a", 1.0),
            ("u", "a", 2.0),
            ("u", "b", 3.0),
            ("u", "c", 4.0),
            ("u", "d", 5.0),
        ]
    )
    interactions["rating"] = [1.0, 4.0, 1.0, 1.0, 1.0]
    data = CanonicalDataset(
        name="t",
        interactions=leave_one_out(interactions),
        users=pd.DataFrame({"id": ["u"]}),
        items=pd.DataFrame({"id": list("abcd"), "title": None}),
        entities=pd.DataFrame({"id": ["g"], "label": ["Genre"], "name": ["G"]}),
        triples=pd.DataFrame(
            [("a", "Item", "HAS_GENRE", "g", "Genre")],
            columns=["head", "head_label", "type", "tail", "tail_label"],
        ),
    )
    edges = data.train_edges().set_index("item")
    assert list(edges.index) == ["a", "b"]  # c is valid, d is test
    assert edges.loc["a", "count"] == 2 and edges.loc["a", "rating"] == 4.0
    nodes, relationships = data.expected_counts()
    assert nodes == {"Dataset": 1, "User": 1, "Item": 4, "Genre": 1, "Relation": 2}
    assert list(data.relations()["name"]) == ["has genre", "interacted with"]
    assert relationships == {"HAS_GENRE": 1, "INTERACTED": 2}
    assert "train=3 valid=1 test=1" in data.summary()
