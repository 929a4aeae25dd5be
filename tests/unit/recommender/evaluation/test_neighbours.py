"""Persona neighbours' item scores against hand-computed values and a plain loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from learners.sasrec.data import SequenceData
from recommender.evaluation.neighbours import neighbour_ranks, neighbour_scorer

ITEMS = ["a", "b", "c", "d", "e"]  # indices 1..5


def small_data() -> SequenceData:
    histories = {"u0": ["a", "b"], "u1": ["b", "c", "c"], "u2": ["d"], "u3": ["e", "a"]}
    rows = [
        (user, item, position, "train")
        for user, items in histories.items()
        for position, item in enumerate(items)
    ]
    rows += [("u0", "c", 9, "valid"), ("u2", "e", 9, "valid"), ("u3", "d", 9, "valid")]
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=ITEMS)


VECTORS = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 2.0], [-1.0, 0.0]], np.float32)


def test_items_are_scored_by_the_similarity_of_the_neighbours_who_had_them() -> None:
    data = small_data()
    scores = neighbour_scorer(VECTORS, data, k=2)(np.array([0, 2]), [])
    # u0's two nearest: u1 (cosine 0.6) and u2 (0.0); u3 (-1) is left out.
    # u1 had b and c (c twice counts once), u2 had d.
    np.testing.assert_allclose(scores[0], [0, 0, 0.6, 0.6, 0.0, 0], atol=1e-6)
    # u2's nearest: u1 (0.8) and u0 (0.0).
    np.testing.assert_allclose(scores[1], [0, 0, 0.8, 0.8, 0, 0], atol=1e-6)


def test_a_user_without_a_vector_is_nobodys_neighbour() -> None:
    data = small_data()
    vectors = VECTORS.copy()
    vectors[1] = 0.0
    scores = neighbour_scorer(vectors, data, k=3)(np.array([0, 1]), [])
    assert scores[0, 2] == 0 and scores[0, 3] == 0  # u1's items get nothing
    np.testing.assert_array_equal(scores[1], np.zeros(6))  # u1 itself is similar to nobody


def test_ranks_match_a_plain_loop() -> None:
    data = small_data()
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((4, 3)).astype(np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = []
    for u in data.evaluable("valid"):
        similarity = unit @ unit[u]
        similarity[u] = -np.inf
        nearest = np.argsort(-similarity)[:2]
        scores = np.zeros(len(ITEMS) + 1)
        for v in nearest:
            for item in set(data.train[v].tolist()):
                scores[item] += max(similarity[v], 0.0)
        target = data.valid[u]
        others = [i for i in range(1, len(ITEMS) + 1) if i != target and i not in data.train[u]]
        expected.append(sum(scores[i] >= scores[target] for i in others))
    np.testing.assert_array_equal(neighbour_ranks(vectors, data, "valid", k=2), expected)


def test_vectors_must_match_the_users() -> None:
    with pytest.raises(ValueError, match="3 vectors for 4 users"):
        neighbour_scorer(VECTORS[:3], small_data())
