"""GCE-GNN's global item graph (Wang et al., SIGIR 2020): which items occur near each
other across all training sessions.

Two items are linked when they occur within ``epsilon`` clicks of each other in a training
sequence (both directions, an item never with itself); an edge's weight counts how often
that happens. Each item keeps its ``top`` heaviest neighbours (ties by item index). Only the
sequences given are read, so built from training sequences it can never hold a validation
or test transition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class GlobalGraph:
    """Per item index (row 0 is padding): its neighbours ``(n_items + 1, top)`` (0 where it
    has fewer) and their weights (0 there)."""

    neighbours: np.ndarray
    weights: np.ndarray

    def edges(self) -> set[tuple[int, int]]:
        """Every kept ``(item, neighbour)`` pair."""
        rows, columns = np.nonzero(self.weights)
        return {(int(r), int(self.neighbours[r, c])) for r, c in zip(rows, columns, strict=True)}


def global_graph(
    sequences: Sequence[np.ndarray], n_items: int, epsilon: int = 2, top: int = 12
) -> GlobalGraph:
    """The global graph of ``sequences`` (item indices 1..``n_items``)."""
    if epsilon < 1 or top < 1:
        raise ValueError(f"epsilon and top must be positive, not {epsilon} and {top}")
    heads: list[np.ndarray] = []
    tails: list[np.ndarray] = []
    for seq in sequences:
        seq = np.asarray(seq, np.int64)
        for gap in range(1, epsilon + 1):
            if len(seq) > gap:
                heads += [seq[:-gap], seq[gap:]]
                tails += [seq[gap:], seq[:-gap]]
    size = n_items + 1
    if heads:
        head, tail = np.concatenate(heads), np.concatenate(tails)
        keep = head != tail
        counts = sp.coo_matrix(
            (np.ones(int(keep.sum()), np.float32), (head[keep], tail[keep])), shape=(size, size)
        ).tocsr()  # repeats add up
    else:
        counts = sp.csr_matrix((size, size), dtype=np.float32)
    neighbours = np.zeros((size, top), np.int64)
    weights = np.zeros((size, top), np.float32)
    for item in range(1, size):
        start, end = counts.indptr[item], counts.indptr[item + 1]
        found, count = counts.indices[start:end], counts.data[start:end]
        order = np.lexsort((found, -count))[:top]
        neighbours[item, : len(order)] = found[order]
        weights[item, : len(order)] = count[order]
    return GlobalGraph(neighbours, weights)
