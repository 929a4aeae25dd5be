"""Session personas (neighbours, encoder) against hand-computed values, and the anonymous
session evaluation against one user at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from learners.hdgi.inductive import PersonaMemory
from learners.sasrec.data import SequenceData
from learners.sasrec.model import SASRec
from recommender.evaluation.sessions import (
    encoder_personas,
    item_users,
    neighbour_personas,
    no_personas,
    session_neighbours,
    session_ranks,
)

HISTORIES = [np.array([1, 2, 2]), np.array([2, 3]), np.array([1, 2, 3]), np.array([4])]


def test_neighbours_share_most_items_ties_by_row_and_never_the_user() -> None:
    chosen_by = item_users(HISTORIES, 5)
    assert chosen_by[2].toarray().tolist() == [[1, 1, 1, 0]]  # a repeat counts once
    # session {2, 3}: users 1 and 2 share two items, user 0 one, user 3 none
    assert session_neighbours(chosen_by, [2, 3, 3]).tolist() == [1, 2, 0]
    assert session_neighbours(chosen_by, [2, 3], k=2).tolist() == [1, 2]
    assert session_neighbours(chosen_by, [2, 3], exclude=1).tolist() == [2, 0]
    assert session_neighbours(chosen_by, [5]).tolist() == []


def test_neighbour_personas_are_means_and_zero_without_neighbours() -> None:
    personas = np.array([[1, 0], [0, 1], [1, 1], [9, 9]], np.float32)
    make = neighbour_personas(personas, item_users(HISTORIES, 5), k=2)
    out = make([np.array([2, 3]), np.array([5]), np.array([4])], np.array([-1, -1, 3]))
    np.testing.assert_allclose(out, np.array([[0.5, 1.0], [0, 0], [0, 0]]))
    np.testing.assert_array_equal(no_personas(2)([np.array([1])], np.array([0])), [[0, 0]])


def memory(paths: int = 2, items: int = 4, hidden: int = 3) -> PersonaMemory:
    rng = np.random.default_rng(0)
    return PersonaMemory(
        states=rng.standard_normal((paths, items, hidden)).astype(np.float32),
        weights=rng.standard_normal((paths, hidden, hidden)).astype(np.float32),
        bias=rng.standard_normal((paths, hidden)).astype(np.float32),
        prelu=np.full(hidden, 0.25, np.float32),
        attention=np.array([0.7, 0.3], np.float32),
        path_norm=False,
    )


def test_the_encoder_persona_of_a_session_is_its_known_items_as_a_user() -> None:
    stored = memory()
    mean = np.array([0.1, 0.2, 0.3], np.float32)
    rows = np.array([-1, 2, -1, 0, 3])  # item index -> memory row; 2 and padding unknown
    make = encoder_personas(stored, rows, mean)
    out = make([np.array([1, 2, 3, 3]), np.array([2]), np.array([4])], np.array([0, 1, 2]))
    expected = stored.encode([np.array([0, 2]), np.array([3])]) - mean  # each item once
    np.testing.assert_allclose(out[0], expected[0], atol=1e-6)
    np.testing.assert_array_equal(out[1], np.zeros(3))  # no known item: no persona
    np.testing.assert_allclose(out[2], expected[1], atol=1e-6)
    # the encoding by hand for one item: W x + b, PReLU, weighted by the attention
    h = np.einsum("pe,pde->pd", stored.states[:, 3], stored.weights) + stored.bias
    h = np.where(h >= 0, h, 0.25 * h)
    np.testing.assert_allclose(out[2], (stored.attention[:, None] * h).sum(0) - mean, atol=1e-5)


def test_session_ranks_do_not_depend_on_the_batch() -> None:
    torch.manual_seed(0)
    items = [f"i{k}" for k in range(12)]
    rng = np.random.default_rng(1)
    rows = []
    for u in range(9):
        chosen = rng.choice(items, size=5 + u % 3, replace=False)
        for p, item in enumerate(chosen):
            rows.append((f"u{u}", item, p, "valid" if p == len(chosen) - 1 else "train"))
    data = SequenceData.from_split(
        pd.DataFrame(rows, columns=["user", "item", "position", "split"]), catalogue=items
    )
    shape = {"hidden": 8, "layers": 1, "heads": 2, "dropout": 0.0, "max_len": 6}
    retriever = SASRec(12, **shape, user_features=torch.randn(9, 4))  # type: ignore[arg-type]
    reranker = SASRec(12, **shape)  # type: ignore[arg-type]
    personas = rng.standard_normal((9, 4)).astype(np.float32)
    make = neighbour_personas(personas, item_users(data.train, 12), k=3)
    options = {"weight": 0.4, "candidates": 7, "session_length": 3}
    together = session_ranks(retriever, reranker, data, make, **options, batch_size=512)  # type: ignore[arg-type]
    alone = [session_ranks(retriever, reranker, data, make, **options, batch_size=1)]  # type: ignore[arg-type]
    np.testing.assert_array_equal(together, alone[0])
    assert len(set(together.tolist())) > 1
