"""The handoff between the two stages: the retriever's top candidates, re-scored by the
reranker for short-term intent."""

from __future__ import annotations

import torch
from torch import Tensor

from learners.sasrec.model import SASRec


def retrieve(
    retriever: SASRec,
    seq: Tensor,
    users: Tensor | None,
    k: int,
    exclude: Tensor | None = None,
    personas: Tensor | None = None,
    items: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The top ``k`` item indices ``(B, k)`` by the retriever, best first, and their scores;
    items set in the bool mask ``exclude`` ``(B, n_items + 1)`` (e.g. already seen) are never
    proposed. ``personas`` and cached ``items`` pass on to
    :meth:`~learners.sasrec.model.SASRec.full_sort_predict`."""
    users = users if retriever.uses_users else None
    scores = retriever.full_sort_predict(seq, users, personas=personas, items=items)
    if exclude is not None:
        scores = scores.masked_fill(exclude, float("-inf"))
    top = scores.topk(min(k, retriever.n_items), dim=1)
    return top.indices, top.values


def blend(reranker_scores: Tensor, retriever_scores: Tensor, weight: float) -> Tensor:
    """Scores ``(B, C)`` of the same candidates by both stages, combined as
    ``(1 - weight) * log p_reranker + weight * log p_retriever`` with each ``p`` a softmax
    over the candidates: the two models' raw scores are on unrelated scales, their
    log-probabilities over one candidate list are not. ``weight`` 0 is the reranker alone,
    1 the retriever's order."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the retriever's weight must be in [0, 1], not {weight}")
    if weight == 0.0:
        return reranker_scores
    if weight == 1.0:
        return retriever_scores
    reranker_part = torch.log_softmax(reranker_scores.float(), dim=1)
    retriever_part = torch.log_softmax(retriever_scores.float(), dim=1)
    return (1.0 - weight) * reranker_part + weight * retriever_part


def rerank(
    reranker: SASRec,
    seq: Tensor,
    candidates: Tensor,
    users: Tensor | None = None,
    fixed: Tensor | None = None,
    retriever_scores: Tensor | None = None,
    weight: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """``candidates`` ``(B, C)`` reordered by the reranker's scores, best first, and those
    scores. Ties keep the retriever's order (a stable sort).

    ``fixed`` ``(B, C)`` bool marks candidates that keep the retriever's slot, such as items
    without a training interaction, whose reranker embedding never learned anything; the
    other candidates are reordered among the remaining slots. With ``retriever_scores`` of
    the candidates and a ``weight`` above 0, the order is by :func:`blend` of both stages.
    """
    scores = reranker.predict(seq, candidates, users if reranker.uses_users else None)
    if weight:
        if retriever_scores is None:
            raise ValueError("a retriever weight needs the retriever's scores")
        scores = blend(scores, retriever_scores, weight)
    return order_candidates(candidates, scores, fixed)


def order_candidates(
    candidates: Tensor, scores: Tensor, fixed: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """``candidates`` sorted by ``scores`` (stable), except the ``fixed`` ones, which keep
    their slot (see :func:`rerank`)."""
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    if fixed is None:
        return candidates.gather(1, order), scores.gather(1, order)
    # Movable candidates first (by score), then the fixed ones; then each movable slot takes
    # the next movable candidate and each fixed slot keeps its own.
    order = order.gather(1, torch.sort(fixed.gather(1, order).byte(), dim=1, stable=True).indices)
    slot = ((~fixed).long().cumsum(dim=1) - 1).clamp(min=0)
    ordered = torch.where(fixed, candidates, candidates.gather(1, order).gather(1, slot))
    return ordered, torch.where(fixed, scores, scores.gather(1, order).gather(1, slot))
