"""Item popularity in the training sequences, and the head/tail split the popularity-bias
measures and the counterfactual augmentation share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

HEAD_SHARE = 0.2  # the head: the most popular 20% of the catalogue by training count


def item_popularity(train: Sequence[np.ndarray], n_items: int) -> np.ndarray:
    """``(n_items + 1,)`` training interactions per item index (index 0, padding, is 0)."""
    items = np.concatenate([np.zeros(0, np.int64), *(np.asarray(s, np.int64) for s in train)])
    counts = np.bincount(items, minlength=n_items + 1)[: n_items + 1]
    counts[0] = 0
    return counts


def head_mask(popularity: np.ndarray, share: float = HEAD_SHARE) -> np.ndarray:
    """``(n_items + 1,)`` bool: True for the ``share`` of the catalogue's items with the most
    training interactions (ties broken by the lower index); the rest is the tail."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the head share must be in [0, 1], not {share}")
    n_items = len(popularity) - 1
    order = np.lexsort((np.arange(n_items), -popularity[1:]))  # most popular first
    head = np.zeros(n_items + 1, bool)
    head[order[: round(share * n_items)] + 1] = True
    return head
