"""Top-K metrics as pure functions of the target's rank (0 = first; ``MISS`` = not ranked,
e.g. a target outside a reranked candidate list). Each returns the mean over users."""

from __future__ import annotations

import numpy as np

MISS = np.iinfo(np.int64).max


def hit_rate(ranks: np.ndarray, k: int) -> float:
    """Share of users whose target is in the top ``k``."""
    _check(ranks, k)
    return float(np.mean(ranks < k))


def ndcg(ranks: np.ndarray, k: int) -> float:
    """NDCG@k with one relevant item: ``1 / log2(rank + 2)`` inside the top ``k``, else 0."""
    _check(ranks, k)
    inside = ranks < k
    gains = np.zeros(len(ranks))
    gains[inside] = 1.0 / np.log2(ranks[inside] + 2.0)
    return float(gains.mean())


def mrr(ranks: np.ndarray, k: int) -> float:
    """MRR@k: ``1 / (rank + 1)`` inside the top ``k``, else 0."""
    _check(ranks, k)
    inside = ranks < k
    gains = np.zeros(len(ranks))
    gains[inside] = 1.0 / (ranks[inside] + 1.0)
    return float(gains.mean())


def precision(ranks: np.ndarray, k: int) -> float:
    """P@k with one relevant item per user: ``1 / k`` when it is in the top ``k``, else 0
    (the measure session-recommendation papers such as LLM-DMsRec report as P@K)."""
    return hit_rate(ranks, k) / k


METRICS = {"HR": hit_rate, "NDCG": ndcg, "MRR": mrr}


def per_user(ranks: np.ndarray, metric: str, k: int) -> np.ndarray:
    """The metric's value for each user (what paired significance tests compare)."""
    inside = ranks < k
    values = np.zeros(len(ranks))
    if metric == "HR":
        values[inside] = 1.0
    elif metric == "NDCG":
        values[inside] = 1.0 / np.log2(ranks[inside] + 2.0)
    elif metric == "MRR":
        values[inside] = 1.0 / (ranks[inside] + 1.0)
    else:
        raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRICS)}")
    return values


def summarise(ranks: np.ndarray, ks: tuple[int, ...] = (10, 100)) -> dict[str, float]:
    """Every metric at every cutoff, keyed like ``"NDCG@10"``."""
    return {f"{name}@{k}": fn(ranks, k) for k in ks for name, fn in METRICS.items()}


def _check(ranks: np.ndarray, k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if len(ranks) == 0:
        raise ValueError("no ranks to average: no user was evaluated")
    if (ranks < 0).any():
        raise ValueError("ranks are 0-based and cannot be negative")
