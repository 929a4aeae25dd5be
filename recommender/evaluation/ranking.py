"""Leave-one-out evaluation of kgrec's SASRecs: one model by full ranking (through the one
evaluator, :mod:`recommender.evaluation.evaluator`), or a retriever followed by a reranker
over its top candidates; and the blend weight chosen on validation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from learners.sasrec.data import SequenceData, Stage, left_pad
from learners.sasrec.model import SASRec
from recommender.evaluation.evaluator import Scorer, rank_users, seen_mask, user_batches
from recommender.evaluation.metrics import MISS, summarise
from recommender.evaluation.rerank import blend, order_candidates, retrieve


@torch.no_grad()
def full_ranks(
    model: SASRec,
    data: SequenceData,
    stage: Stage,
    users: np.ndarray | None = None,
    batch_size: int = 512,
) -> np.ndarray:
    """0-based rank of each user's ``stage`` target by ``model``, through the one
    evaluator (:func:`~recommender.evaluation.evaluator.rank_users`)."""
    return rank_users(sasrec_scorer(model), data, stage, users, batch_size, _device(model))


def sasrec_scorer(model: SASRec) -> Scorer:
    """Scores of every item by a SASRec after each user's input sequence."""
    device = _device(model)
    model.eval()

    def scorer(rows: np.ndarray, histories: Sequence[np.ndarray]) -> Tensor:
        seq = left_pad(list(histories), model.max_len).to(device)
        user_rows = torch.from_numpy(rows).to(device) if model.uses_users else None
        return model.full_sort_predict(seq, user_rows)

    return scorer


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
    for _, seq, user_rows, seen, targets in _batches(retriever, data, stage, users, batch_size):
        orders = two_stage_orders(
            retriever, reranker, seq, user_rows, seen, weights, candidates, fixed_items
        )
        for weight, ordered in orders.items():
            hit = ordered == targets[:, None]
            rank = torch.where(hit.any(dim=1), hit.int().argmax(dim=1), -1).cpu().numpy()
            ranks[weight].append(np.where(rank >= 0, rank, MISS).astype(np.int64))
    return {
        w: np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        for w, found in ranks.items()
    }


@torch.no_grad()
def two_stage_orders(
    retriever: SASRec,
    reranker: SASRec,
    seq: Tensor,
    user_rows: Tensor | None,
    seen: Tensor,
    weights: Sequence[float],
    candidates: int = 100,
    fixed_items: np.ndarray | None = None,
) -> dict[float, Tensor]:
    """The items ``(B, candidates)`` in the evaluated order, per retriever weight: the
    retriever's top unseen candidates, reordered by the blend of both stages; items set in
    ``fixed_items`` keep the retriever's slot. Serving must give the same order."""
    proposed, proposed_scores = retrieve(retriever, seq, user_rows, candidates, exclude=seen)
    keep = None
    if fixed_items is not None:
        keep = torch.from_numpy(fixed_items).to(proposed.device)[proposed]
    users_for_reranker = user_rows if reranker.uses_users else None
    reranker_scores = reranker.predict(seq, proposed, users_for_reranker)
    return {
        weight: order_candidates(proposed, blend(reranker_scores, proposed_scores, weight), keep)[0]
        for weight in weights
    }


def _batches(
    model: SASRec, data: SequenceData, stage: Stage, users: np.ndarray | None, batch_size: int
) -> Iterator[tuple[np.ndarray, Tensor, Tensor | None, Tensor, Tensor]]:
    device = _device(model)
    model.eval()
    for rows, histories, targets in user_batches(data, stage, users, batch_size):
        yield (
            rows,
            left_pad(histories, model.max_len).to(device),
            torch.from_numpy(rows).to(device) if model.uses_users else None,
            seen_mask(histories, data.n_items, device),
            torch.from_numpy(targets).to(device),
        )


def _device(model: SASRec) -> torch.device:
    return next(model.parameters()).device


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
