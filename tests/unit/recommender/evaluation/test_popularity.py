"""Popularity-bias measures against hand-computed values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from learners.sasrec.data import SequenceData
from recommender.evaluation.popularity import (
    list_measures,
    tail_measures,
    tail_users,
    top_items,
)


def data() -> SequenceData:
    """Items a..e; a is in every training sequence (the head, 20% of 5 items)."""
    rows = []
    for user, seq in {"u0": "abcd", "u1": "acbe", "u2": "adeb"}.items():
        for p, item in enumerate(seq):
            stage = "train" if p < 2 else ("valid" if p == 2 else "test")
            rows.append((user, item, p, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=list("abcde"))


def test_top_lists_leave_out_the_history_and_the_measures_match_hand_values() -> None:
    d = data()
    fixed = torch.tensor([0.0, 9.0, 1.0, 2.0, 3.0, 4.0])  # a best, then e, d, c, b

    def scorer(rows: np.ndarray, histories: Sequence[np.ndarray]) -> torch.Tensor:
        return fixed.repeat(len(rows), 1)

    users = d.evaluable("test")
    top = top_items(scorer, d, "test", users, k=2)
    # Test histories: u0 a,b,c -> e,d; u1 a,c,b -> e,d; u2 a,d,e -> c,b
    np.testing.assert_array_equal(top, [[5, 4], [5, 4], [3, 2]])
    popularity = np.array([0, 3, 1, 1, 1, 0])  # training counts: a 3; b, c, d 1; e 0
    found = list_measures(top, popularity)
    assert found["Coverage@2"] == 4 / 5
    assert np.isclose(found["ARP@2"], (0 + 1 + 0 + 1 + 1 + 1) / 6)

    tail = tail_users(d, "test", users)  # targets d, e, b: none is a
    assert tail.tolist() == [True, True, True]
    measures = tail_measures(np.array([0, 20, 3]), np.array([True, False, True]))
    assert measures["Tail HR@10"] == 1.0
    assert np.isclose(measures["Tail NDCG@10"], (1 + 1 / np.log2(5)) / 2)
    assert tail_measures(np.array([0]), np.array([False])) == {}
