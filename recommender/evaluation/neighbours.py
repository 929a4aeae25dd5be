"""How well user vectors (personas) find a user's next item through their neighbours: each
item is scored by the cosine similarity of the users nearest the user who had it in
training, and the target is ranked by the one evaluator. It needs no model beyond the
vectors, so it judges personas on a validation split cheaply (``kgrec personas`` chooses
HDGI's training length with it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from learners.sasrec.data import SequenceData, Stage
from recommender.evaluation.evaluator import Scorer, rank_users

NEIGHBOURS = 20  # as many as the service reads for an anonymous session


def neighbour_scorer(vectors: np.ndarray, data: SequenceData, k: int = NEIGHBOURS) -> Scorer:
    """Scores of every item for a batch of users: the summed (non-negative) cosine
    similarity of the ``k`` most similar other users who had the item in training.

    Args:
        vectors: ``(users, d)``, row ``u`` for ``data.users[u]``; an all-zero row (a user
            without a vector) is similar to nobody.
        data: the users' training sequences (the neighbours' items).
        k: neighbours per user.
    """
    if len(vectors) != len(data.users):
        raise ValueError(f"{len(vectors)} vectors for {len(data.users)} users")
    if k < 1:
        raise ValueError(f"k must be positive, not {k}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors, np.float32), where=norms > 0)
    unit = unit.astype(np.float32)
    lengths = [len(seq) for seq in data.train]
    rows = np.repeat(np.arange(len(lengths)), lengths)
    columns = np.concatenate(data.train) if rows.size else np.zeros(0, np.int64)
    had = sp.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, columns)),
        shape=(len(lengths), data.n_items + 1),
    )
    had.data[:] = 1.0  # an item had twice counts once
    take = min(k, len(lengths) - 1)

    def scorer(users: np.ndarray, _: Sequence[np.ndarray]) -> np.ndarray:
        similarity = unit[users] @ unit.T
        similarity[np.arange(len(users)), users] = -np.inf  # never one's own neighbour
        if take < 1:
            return np.zeros((len(users), data.n_items + 1), np.float32)
        nearest = np.argpartition(-similarity, take - 1, axis=1)[:, :take]
        weights = np.take_along_axis(similarity, nearest, axis=1).clip(min=0)
        mix = sp.csr_matrix(
            (weights.ravel(), (np.repeat(np.arange(len(users)), take), nearest.ravel())),
            shape=(len(users), len(lengths)),
        )
        return np.asarray((mix @ had).todense(), dtype=np.float32)

    return scorer


def neighbour_ranks(
    vectors: np.ndarray, data: SequenceData, stage: Stage, k: int = NEIGHBOURS
) -> np.ndarray:
    """The rank of each evaluable user's ``stage`` target under :func:`neighbour_scorer`."""
    return rank_users(neighbour_scorer(vectors, data, k), data, stage, batch_size=256)
