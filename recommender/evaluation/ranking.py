"""Leave-one-out evaluation by full ranking over the whole catalogue (items a user has
already interacted with are excluded, as is usual for next-item recommendation), for one
model or for a retriever followed by a reranker."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from learners.sasrec.data import SequenceData, Stage, left_pad
from learners.sasrec.model import SASRec
from recommender.evaluation.metrics import MISS, summarise
from recommender.evaluation.rerank import blend, order_candidates, retrieve


def seen_mask(histories: Sequence[np.ndarray], n_items: int, device: torch.device | str) -> Tensor:
    """``(B, n_items + 1)`` bool: True at every item of each history."""
    mask = torch.zeros(len(histories), n_items + 1, dtype=torch.bool)
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    if len(rows):
        mask[torch.from_numpy(rows), torch.from_numpy(np.concatenate(histories))] = True
    return mask.to(device)


@torch.no_grad()
def full_ranks(
    model: SASRec,
    data: SequenceData,
    stage: Stage,
    users: np.ndarray | None = None,
    batch_size: int = 512,
) -> np.ndarray:
    """0-based rank of each user's ``stage`` target among all items not yet seen (ties
    count in the target's favour only when scores are exactly equal)."""
    ranks = []
    for _, seq, user_rows, seen, targets in _batches(model, data, stage, users, batch_size):
        scores = model.full_sort_predict(seq, user_rows).float()
        scores = scores.masked_fill(seen, float("-inf"))
        target = scores.gather(1, targets[:, None])
        ranks.append((scores > target).sum(dim=1).cpu().numpy())
    return np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)


@torch.no_grad()
def reranked_ranks(
    retriever: SASRec,
    reranker: SASRec,
    data: SequenceData,
    stage: Stage,
    users: np.ndarray | None = None,
    candidates: int = 100,
    batch_size: int = 512,
    fixed_items: np.ndarray | None = None,
    weight: float = 0.0,
) -> np.ndarray:
    """0-based rank of each target in the reranker's order of the retriever's top
    ``candidates``; :data:`~recommender.evaluation.metrics.MISS` where the retriever missed it.
    Items set in the bool mask ``fixed_items`` ``(n_items + 1,)`` keep the retriever's slot
    (see :func:`~recommender.evaluation.rerank.rerank`); ``weight`` blends in the retriever's scores
    (see :func:`~recommender.evaluation.rerank.blend`)."""
    found = ranks_by_weight(
        retriever, reranker, data, stage, (weight,), users, candidates, batch_size, fixed_items
    )
    return found[weight]


@torch.no_grad()
def ranks_by_weight(
    retriever: SASRec,
    reranker: SASRec,
    data: SequenceData,
    stage: Stage,
    weights: Sequence[float],
    users: np.ndarray | None = None,
    candidates: int = 100,
    batch_size: int = 512,
    fixed_items: np.ndarray | None = None,
) -> dict[float, np.ndarray]:
    """:func:`reranked_ranks` for several retriever ``weights`` at the cost of one: both
    stages score each batch once, and only the blend is redone per weight."""
    ranks: dict[float, list[np.ndarray]] = {w: [] for w in weights}
    fixed = None if fixed_items is None else torch.from_numpy(fixed_items)
    for _, seq, user_rows, seen, targets in _batches(retriever, data, stage, users, batch_size):
        proposed, proposed_scores = retrieve(retriever, seq, user_rows, candidates, exclude=seen)
        keep = None if fixed is None else fixed.to(proposed.device)[proposed]
        users_for_reranker = user_rows if reranker.uses_users else None
        reranker_scores = reranker.predict(seq, proposed, users_for_reranker)
        for weight in weights:
            scores = blend(reranker_scores, proposed_scores, weight)
            ordered, _ = order_candidates(proposed, scores, keep)
            hit = ordered == targets[:, None]
            rank = torch.where(hit.any(dim=1), hit.int().argmax(dim=1), -1).cpu().numpy()
            ranks[weight].append(np.where(rank >= 0, rank, MISS).astype(np.int64))
    return {
        w: np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        for w, found in ranks.items()
    }


def _batches(
    model: SASRec, data: SequenceData, stage: Stage, users: np.ndarray | None, batch_size: int
) -> Iterator[tuple[np.ndarray, Tensor, Tensor | None, Tensor, Tensor]]:
    device = next(model.parameters()).device
    users = data.evaluable(stage) if users is None else users
    inputs, targets = data.inputs(stage), data.targets(stage)
    model.eval()
    for start in range(0, len(users), batch_size):
        rows = users[start : start + batch_size]
        histories = [inputs[u] for u in rows]
        seq = left_pad(histories, model.max_len).to(device)
        user_rows = torch.from_numpy(rows).to(device) if model.uses_users else None
        yield (
            rows,
            seq,
            user_rows,
            seen_mask(histories, data.n_items, device),
            torch.from_numpy(targets[rows]).to(device),
        )


# Retriever weights tried for a blend (see recommender.evaluation.rerank.blend): 0 is the
# reranker alone, 1 the retriever alone.
BLEND_WEIGHTS = tuple(w / 10 for w in range(11))


def choose_weight(
    retriever: SASRec,
    reranker: SASRec,
    data: SequenceData,
    weights: tuple[float, ...] = BLEND_WEIGHTS,
    candidates: int = 100,
    fixed_items: np.ndarray | None = None,
) -> tuple[float, float]:
    """The retriever weight of the blend with the best validation NDCG@10 (ties: the
    smaller weight, nearer the reranker alone), and that NDCG@10."""
    found = ranks_by_weight(
        retriever, reranker, data, "valid", weights, candidates=candidates, fixed_items=fixed_items
    )
    scored = [(summarise(ranks)["NDCG@10"], -w) for w, ranks in found.items()]
    best, negative = max(scored)
    return -negative, best
