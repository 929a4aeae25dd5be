"""Paired significance tests over per-user metric values."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from itertools import combinations
from typing import TypeVar

import numpy as np
from scipy.stats import wilcoxon

K = TypeVar("K", bound=Hashable)


def paired_wilcoxon(per_user: Mapping[K, np.ndarray]) -> dict[tuple[K, K], float]:
    """Wilcoxon signed-rank p-value for every pair of rows, on per-user values aligned
    across rows (the same users in the same order, so the test is paired). Identical rows
    give ``1.0``."""
    result = {}
    for a, b in combinations(per_user, 2):
        diff = per_user[a] - per_user[b]
        result[(a, b)] = 1.0 if not np.any(diff) else float(wilcoxon(diff).pvalue)
    return result
