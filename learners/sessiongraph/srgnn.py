"""SR-GNN (Wu et al., AAAI 2019): a gated graph network over each session's graph, then a
soft-attention readout of the session from its node states.

Per step, every node gathers its predecessors' and successors' states through the session
graph's normalised in- and out-adjacencies (each through its own linear map), and a GRU
cell mixes that message into its state. The session vector joins the last click's state
(short-term interest) with an attention-weighted sum of every click's state (the global
preference), and every item is scored by its dot product with the item embeddings.

The interface is SASRec's: ``forward`` (scores of every item for a batch of sequences),
``predict`` (scores of given candidates) and ``full_sort_predict`` (column 0, padding, at
``-inf``), so the one evaluator and the training loop take either.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.graph import GraphBatch, batch_graphs


class GatedSessionLayer(nn.Module):
    """One gated propagation step over a batch of session graphs."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.incoming = nn.Linear(hidden, hidden)
        self.outgoing = nn.Linear(hidden, hidden)
        self.cell = nn.GRUCell(2 * hidden, hidden)

    def forward(self, h: Tensor, graphs: GraphBatch) -> Tensor:
        # h: (B, N, C); messages from predecessors and successors, then the GRU update.
        message = torch.cat(
            [
                torch.bmm(graphs.in_weights, self.incoming(h)),
                torch.bmm(graphs.out_weights, self.outgoing(h)),
            ],
            dim=-1,
        )
        b, n, c = h.shape
        updated: Tensor = self.cell(message.reshape(b * n, 2 * c), h.reshape(b * n, c))
        return updated.view(b, n, c)


class SRGNN(SessionScorer):
    """SR-GNN over ``n_items`` items (index 0 is padding).

    Args:
        hidden: width of item embeddings and node states.
        steps: gated propagation steps.
        max_len: most recent clicks a session keeps.
        dropout: dropout on the item embeddings (0 in the paper).
    """

    def __init__(
        self, n_items: int, *, hidden: int, steps: int, max_len: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if n_items < 1:
            raise ValueError("SR-GNN needs at least one item")
        self.n_items, self.hidden, self.max_len = n_items, hidden, max_len
        self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.layers = nn.ModuleList([GatedSessionLayer(hidden) for _ in range(steps)])
        self.drop = nn.Dropout(dropout)
        self.last_query = nn.Linear(hidden, hidden)
        self.node_key = nn.Linear(hidden, hidden, bias=False)
        self.score = nn.Linear(hidden, 1, bias=False)
        self.combine = nn.Linear(2 * hidden, hidden)
        self.reset_parameters()

    def session_vectors(self, seq: Tensor) -> Tensor:
        """``(B, hidden)`` session vectors of left-padded sequences ``(B, L)``."""
        seq = seq[:, -self.max_len :]
        graphs = batch_graphs(seq)
        h = self.drop(self.item_embedding(graphs.items))
        for layer in self.layers:
            h = layer(h, graphs)
        clicked = graphs.alias >= 0
        states = torch.gather(
            h, 1, graphs.alias.clamp(min=0)[..., None].expand(-1, -1, h.shape[-1])
        )  # (B, L, C): the state of each click's node
        last = h[torch.arange(len(h), device=h.device), graphs.last]  # (B, C)
        weights = self.score(torch.sigmoid(self.last_query(last)[:, None] + self.node_key(states)))
        weights = weights.masked_fill(~clicked[..., None], 0.0)
        preference = (weights * states).sum(dim=1)
        vector: Tensor = self.combine(torch.cat([preference, last], dim=-1))
        return vector

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.n_items} items, hidden={self.hidden}, "
            f"steps={len(self.layers)}, max_len={self.max_len})"
        )
