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


def rerank(
    reranker: SASRec,
    seq: Tensor,
    candidates: Tensor,
    users: Tensor | None = None,
    fixed: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """``candidates`` ``(B, C)`` reordered by the reranker's scores, best first, and those
    scores. Ties keep the retriever's order (a stable sort).

    ``fixed`` ``(B, C)`` bool marks candidates that keep the retriever's slot, such as items
    without a training interaction, whose reranker embedding never learned anything; the
    other candidates are reordered among the remaining slots.
    """
    scores = reranker.predict(seq, candidates, users if reranker.uses_users else None)
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    if fixed is None:
        return candidates.gather(1, order), scores.gather(1, order)
    # Movable candidates first (by score), then the fixed ones; then each movable slot takes
    # the next movable candidate and each fixed slot keeps its own.
    order = order.gather(1, torch.sort(fixed.gather(1, order).byte(), dim=1, stable=True).indices)
    slot = ((~fixed).long().cumsum(dim=1) - 1).clamp(min=0)
    ordered = torch.where(fixed, candidates, candidates.gather(1, order).gather(1, slot))
    return ordered, torch.where(fixed, scores, scores.gather(1, order).gather(1, slot))
