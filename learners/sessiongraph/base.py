"""What the session-graph models share: scoring items from a session vector, with SASRec's
interface (``forward``, ``predict``, ``full_sort_predict``)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class SessionScorer(nn.Module):
    """A model whose ``session_vectors(seq)`` ``(B, hidden)`` scores every item by its dot
    product with ``item_embedding`` (index 0 is padding)."""

    uses_users = False  # the evaluator's and the reranker's interface
    item_embedding: nn.Embedding
    max_len: int
    n_items: int

    hidden: int

    def reset_parameters(self) -> None:
        """Uniform in ``[-1/sqrt(hidden), 1/sqrt(hidden)]``, as the papers' code; the padding
        item's embedding at zero."""
        bound = 1.0 / math.sqrt(self.hidden)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def session_vectors(self, seq: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, seq: Tensor) -> Tensor:
        """Scores of every item (column 0 is padding) after each sequence."""
        scores: Tensor = self.session_vectors(seq) @ self.item_embedding.weight.T
        return scores

    def full_sort_predict(self, seq: Tensor, users: Tensor | None = None) -> Tensor:
        """Scores of every item ``(B, n_items + 1)``; column 0 is ``-inf``."""
        scores = self.forward(seq)
        scores[:, 0] = float("-inf")
        return scores

    def predict(self, seq: Tensor, candidates: Tensor, users: Tensor | None = None) -> Tensor:
        """Scores ``(B, C)`` of ``candidates`` ``(B, C)`` after each sequence."""
        vectors = self.session_vectors(seq)
        return torch.einsum("bc,bkc->bk", vectors, self.item_embedding(candidates))
