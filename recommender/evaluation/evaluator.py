"""The one evaluator every model goes through, kgrec's or a peer's: full ranking of each
user's target among all items, from the model's own scores.

- **Candidates**: every item of the catalogue but the padding index and the user's history
  (training items; for the test target, the validation item too). The target itself is
  never excluded, even when the user chose it before.
- **Ties are pessimistic**: an item that scores exactly the target's score ranks ahead of
  it, so a model that gives every item the same score ranks the target last, not first.
- **Ranks are 0-based** (0 = first) and feed :mod:`recommender.evaluation.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from learners.sasrec.data import SequenceData, Stage

# Scores of every item (column 0 is padding) for a batch of users: ``(B, n_items + 1)``.
Scorer = Callable[[np.ndarray, Sequence[np.ndarray]], Tensor | np.ndarray]


def seen_mask(histories: Sequence[np.ndarray], n_items: int, device: torch.device | str) -> Tensor:
    """``(B, n_items + 1)`` bool: True at every item of each history."""
    mask = torch.zeros(len(histories), n_items + 1, dtype=torch.bool)
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    if len(rows):
        mask[torch.from_numpy(rows), torch.from_numpy(np.concatenate(histories))] = True
    return mask.to(device)


def target_ranks(scores: Tensor, seen: Tensor, targets: Tensor) -> Tensor:
    """0-based rank of each target among the items that are neither padding nor ``seen``
    (the target always competes), ties counted against the target.

    Args:
        scores: ``(B, n_items + 1)`` any real scores (higher is better); NaN is refused.
        seen: ``(B, n_items + 1)`` bool, the items to leave out.
        targets: ``(B,)`` item indices (1-based).
    """
    scores = scores.float()
    if torch.isnan(scores).any():
        raise ValueError("a model gave NaN scores: they cannot be ranked")
    rows = torch.arange(len(targets), device=scores.device)
    target = scores[rows, targets]
    competing = ~seen
    competing[:, 0] = False
    competing[rows, targets] = False
    return ((scores >= target[:, None]) & competing).sum(dim=1)


def rank_users(
    scorer: Scorer,
    data: SequenceData,
    stage: Stage,
    users: np.ndarray | None = None,
    batch_size: int = 512,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """The rank of each user's ``stage`` target (users: rows of ``data``; default: every
    user with a target and a history), from ``scorer(user_rows, histories)``, which returns
    the scores of every item for those users given their input sequences."""
    ranks = [
        target_ranks(
            torch.as_tensor(scorer(rows, histories), device=device),
            seen_mask(histories, data.n_items, device),
            torch.from_numpy(targets).to(device),
        )
        .cpu()
        .numpy()
        for rows, histories, targets in user_batches(data, stage, users, batch_size)
    ]
    return np.concatenate(ranks).astype(np.int64) if ranks else np.zeros(0, dtype=np.int64)


def user_batches(
    data: SequenceData, stage: Stage, users: np.ndarray | None, batch_size: int
) -> Iterator[tuple[np.ndarray, list[np.ndarray], np.ndarray]]:
    """Batches of (user rows, their input sequences, their targets) in the order of
    ``users``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, not {batch_size}")
    users = data.evaluable(stage) if users is None else np.asarray(users)
    inputs, targets = data.inputs(stage), data.targets(stage)
    for start in range(0, len(users), batch_size):
        rows = users[start : start + batch_size]
        yield rows, [inputs[u] for u in rows], targets[rows]


def score_table(table: np.ndarray) -> Scorer:
    """A scorer from a precomputed ``(users, n_items + 1)`` table, e.g. a peer's scores
    exported from another framework (row ``u`` is ``data.users[u]``)."""

    def scorer(rows: np.ndarray, _: Sequence[np.ndarray]) -> np.ndarray:
        return np.asarray(table[rows], dtype=np.float32)

    return scorer
