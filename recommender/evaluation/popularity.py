"""Popularity-bias measures beside accuracy, from the same exclusions as the one evaluator:

- **Tail HR@10 / NDCG@10**: over the users whose target is a tail item (outside the most
  popular 20% of the catalogue by training interactions, :func:`learners.popularity.head_mask`);
- **Coverage@10**: the share of the catalogue that appears in at least one user's top 10;
- **ARP@10**: the average training popularity (interactions) of the items in the top 10s.
"""

from __future__ import annotations

import numpy as np
import torch

from learners.popularity import head_mask, item_popularity
from learners.sasrec.data import SequenceData, Stage
from recommender.evaluation.evaluator import Scorer, seen_mask, user_batches
from recommender.evaluation.metrics import hit_rate, ndcg

LIST_K = 10


def top_items(
    scorer: Scorer,
    data: SequenceData,
    stage: Stage,
    users: np.ndarray | None = None,
    k: int = LIST_K,
    batch_size: int = 512,
) -> np.ndarray:
    """``(U, k)`` each user's top ``k`` item indices, best first, among the items the
    evaluator ranks (the user's history and the padding index left out)."""
    found = []
    for rows, histories, _ in user_batches(data, stage, users, batch_size):
        scores = torch.as_tensor(scorer(rows, histories)).float().cpu().clone()
        scores[seen_mask(histories, data.n_items, "cpu")] = float("-inf")
        scores[:, 0] = float("-inf")
        found.append(scores.topk(min(k, data.n_items), dim=1).indices.numpy())
    return np.concatenate(found) if found else np.zeros((0, k), np.int64)


def list_measures(top: np.ndarray, popularity: np.ndarray) -> dict[str, float]:
    """Coverage@k and ARP@k of the lists ``top`` ``(U, k)`` (``popularity`` by item index)."""
    k = top.shape[1]
    n_items = len(popularity) - 1
    return {
        f"Coverage@{k}": float(len(np.unique(top)) / n_items) if n_items else 0.0,
        f"ARP@{k}": float(popularity[top].mean()) if top.size else 0.0,
    }


def tail_users(data: SequenceData, stage: Stage, users: np.ndarray) -> np.ndarray:
    """``(U,)`` bool: whether each user's ``stage`` target is a tail item."""
    head = head_mask(item_popularity(data.train, data.n_items))
    return np.asarray(~head[data.targets(stage)[users]], bool)


def tail_measures(ranks: np.ndarray, tail: np.ndarray) -> dict[str, float]:
    """HR@10 and NDCG@10 over the users whose target is in the tail."""
    if not tail.any():
        return {}
    return {"Tail HR@10": hit_rate(ranks[tail], 10), "Tail NDCG@10": ndcg(ranks[tail], 10)}
