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
) -> Tensor:
    """The top ``k`` item indices ``(B, k)`` by the retriever, best first; items set in the
    bool mask ``exclude`` ``(B, n_items + 1)`` (e.g. already seen) are never proposed."""
    scores = retriever.full_sort_predict(seq, users if retriever.uses_users else None)
    if exclude is not None:
        scores = scores.masked_fill(exclude, float("-inf"))
    k = min(k, retriever.n_items)
    return scores.topk(k, dim=1).indices


def rerank(
    reranker: SASRec, seq: Tensor, candidates: Tensor, users: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """``candidates`` ``(B, C)`` reordered by the reranker's scores, best first, and those
    scores. Ties keep the retriever's order (a stable sort)."""
    scores = reranker.predict(seq, candidates, users if reranker.uses_users else None)
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    return candidates.gather(1, order), scores.gather(1, order)
