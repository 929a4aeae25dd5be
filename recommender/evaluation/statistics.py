"""Paired significance tests over per-user metric values."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from itertools import combinations
from typing import TypeVar

import numpy as np
from scipy.stats import wilcoxon

K = TypeVar("K", bound=Hashable)


def wilcoxon_p(a: np.ndarray, b: np.ndarray) -> float:
    """Wilcoxon signed-rank p-value of paired values ``a - b``; ``1.0`` when they are equal."""
    diff = np.asarray(a) - np.asarray(b)
    return 1.0 if not np.any(diff) else float(wilcoxon(diff).pvalue)


def paired_wilcoxon(per_user: Mapping[K, np.ndarray]) -> dict[tuple[K, K], float]:
    """:func:`wilcoxon_p` for every pair of rows, on per-user values aligned across rows
    (the same users in the same order, so the test is paired)."""
    return {(a, b): wilcoxon_p(per_user[a], per_user[b]) for a, b in combinations(per_user, 2)}


def holm(p_values: Mapping[K, float]) -> dict[K, float]:
    """Holm-Bonferroni adjusted p-values for one family of tests: the i-th smallest of m
    p-values is multiplied by ``m - i`` (i from 0), made non-decreasing in that order and
    capped at 1."""
    ordered = sorted(p_values.items(), key=lambda kv: kv[1])
    m, running, adjusted = len(ordered), 0.0, {}
    for i, (key, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - i) * p))
        adjusted[key] = running
    return {key: adjusted[key] for key in p_values}


def bootstrap_interval(
    a: np.ndarray,
    b: np.ndarray,
    resamples: int = 2_000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """The mean difference ``a - b`` and its percentile bootstrap interval, resampling users
    and seeds independently.

    Args:
        a, b: ``(seeds, users)`` per-user metric values of two rows on the same users, each
            seed's row paired with the other's same seed.
    """
    a, b = np.atleast_2d(np.asarray(a, float)), np.atleast_2d(np.asarray(b, float))
    if a.shape != b.shape:
        raise ValueError(f"paired values of different shapes {a.shape} and {b.shape}")
    diff = a - b
    rng = np.random.default_rng(seed)
    seeds, users = diff.shape
    means = np.empty(resamples)
    for r in range(resamples):
        rows = rng.integers(0, seeds, seeds)
        cols = rng.integers(0, users, users)
        means[r] = diff[np.ix_(rows, cols)].mean()
    tail = (1.0 - level) / 2
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(diff.mean()), float(low), float(high)


def per_seed_wilcoxon(a: np.ndarray, b: np.ndarray) -> list[float]:
    """One paired Wilcoxon p-value per seed (rows of ``(seeds, users)`` arrays)."""
    return [wilcoxon_p(x, y) for x, y in zip(np.atleast_2d(a), np.atleast_2d(b), strict=True)]
