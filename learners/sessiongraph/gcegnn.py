"""GCE-GNN (Wang et al., SIGIR 2020): item representations from the session graph and from
a global item graph built from all training sessions, fused, then a position-aware readout.

- **Global level**: each session item attends over its neighbours in the global graph
  (:mod:`learners.sessiongraph.global_graph`), with weights that depend on the session (the
  mean of its item embeddings, multiplied into each neighbour's) and on the edge's count;
  the item's embedding and that neighbourhood are mixed by a linear layer.
- **Session level**: attention over the session graph's neighbours with one attention
  vector per edge type (self, out, in, both ways).
- **Readout**: each click's fused state with a learned embedding of its position counted
  from the end of the session, soft-attended against the session's mean state.

The interface is SASRec's (``forward``, ``predict``, ``full_sort_predict``), so the one
evaluator and :func:`~learners.sessiongraph.train.train_session_model` take it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.global_graph import GlobalGraph
from learners.sessiongraph.graph import GraphBatch, batch_graphs

RELATIONS = 5  # none, self, out, in, both ways (GraphBatch.relations)


def _masked_softmax(logits: Tensor, allowed: Tensor) -> Tensor:
    """Softmax over the last dimension among ``allowed`` entries; all zero where none is
    (an item without global neighbours, a padding node), with finite gradients."""
    weights = torch.softmax(logits.masked_fill(~allowed, -1e9), dim=-1)
    return weights * allowed.any(dim=-1, keepdim=True)


class GCEGNN(SessionScorer):
    """GCE-GNN over ``n_items`` items (index 0 is padding) and a global graph of them.

    Args:
        hidden: width of item embeddings and states.
        max_len: most recent clicks a session keeps (and positions embedded).
        dropout: dropout on the global-level states (the paper's ``dropout_global``).
    """

    def __init__(
        self,
        n_items: int,
        global_graph: GlobalGraph,
        *,
        hidden: int,
        max_len: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if global_graph.neighbours.shape[0] != n_items + 1:
            raise ValueError(
                f"the global graph has {global_graph.neighbours.shape[0]} rows, "
                f"expected {n_items + 1}"
            )
        self.n_items, self.hidden, self.max_len = n_items, hidden, max_len
        self.register_buffer("neighbours", torch.from_numpy(global_graph.neighbours))
        self.register_buffer("neighbour_weights", torch.from_numpy(global_graph.weights))
        self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.position = nn.Embedding(max_len + 1, hidden)
        # global level
        self.neighbour_score = nn.Linear(hidden + 1, hidden, bias=False)
        self.neighbour_query = nn.Linear(hidden, 1, bias=False)
        self.global_mix = nn.Linear(2 * hidden, hidden)
        self.drop = nn.Dropout(dropout)
        # session level: one attention vector per edge type
        self.relation_vectors = nn.Parameter(torch.empty(RELATIONS, hidden))
        # readout
        self.with_position = nn.Linear(2 * hidden, hidden)
        self.click_key = nn.Linear(hidden, hidden, bias=False)
        self.session_query = nn.Linear(hidden, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)
        self.reset_parameters()

    def _global_states(self, h: Tensor, items: Tensor, session: Tensor) -> Tensor:
        neighbours = self.get_buffer("neighbours")[items]  # (B, N, K)
        counts = self.get_buffer("neighbour_weights")[items]  # (B, N, K)
        hn = self.item_embedding(neighbours)  # (B, N, K, C)
        batch, nodes, top, width = hn.shape
        # neighbour_score([session * hn, count]) without building that (B, N, K, C + 1)
        # input: the session vector scales the weight's columns instead, one matrix per row
        weight = self.neighbour_score.weight  # (C, C + 1)
        scaled = session[:, :, None] * weight[:, :width].T[None]  # (B, C, C)
        scored = torch.bmm(hn.reshape(batch, nodes * top, width), scaled)
        scored = scored.reshape(batch, nodes, top, -1) + counts[..., None] * weight[:, width]
        logits = self.neighbour_query(F.leaky_relu(scored, 0.2)).squeeze(-1)
        weights = _masked_softmax(logits, neighbours > 0)
        around = torch.matmul(weights[:, :, None, :], hn).squeeze(2)  # (B, N, C)
        states: Tensor = F.relu(self.global_mix(torch.cat([h, around], dim=-1)))
        return states

    def _session_states(self, h: Tensor, graphs: GraphBatch) -> Tensor:
        kinds = graphs.relations  # (B, N, N)
        # sum_c h_i[c] r[c] h_j[c] for every edge type r as one (B, N, N) matrix each,
        # then each pair reads its own type's matrix
        typed = self.relation_vectors[1:, None, :] * h[:, None]  # (B, R - 1, N, C)
        per_type = torch.matmul(typed, h[:, None].transpose(-1, -2))  # (B, R - 1, N, N)
        chosen = per_type.gather(1, (kinds - 1).clamp(min=0)[:, None]).squeeze(1)
        weights = _masked_softmax(F.leaky_relu(chosen, 0.2), kinds > 0)
        return torch.bmm(weights, h)

    def session_vectors(self, seq: Tensor) -> Tensor:
        """``(B, hidden)`` session vectors of left-padded sequences ``(B, L)``."""
        seq = seq[:, -self.max_len :]
        graphs = batch_graphs(seq)
        h = self.item_embedding(graphs.items)  # (B, N, C)
        real = (graphs.items > 0).float()[..., None]
        session = (h * real).sum(1) / real.sum(1).clamp(min=1.0)
        fused = self.drop(self._global_states(h, graphs.items, session))
        fused = fused + self._session_states(h, graphs)
        clicked = graphs.alias >= 0  # (B, L)
        states = torch.gather(
            fused, 1, graphs.alias.clamp(min=0)[..., None].expand(-1, -1, fused.shape[-1])
        )
        # position from the end: the last click is 1, padding 0
        from_end = clicked.long().flip(1).cumsum(1).flip(1) * clicked.long()
        z = torch.tanh(self.with_position(torch.cat([states, self.position(from_end)], -1)))
        mean = (states * clicked[..., None]).sum(1) / clicked.sum(1, keepdim=True).clamp(min=1)
        beta = self.score(torch.sigmoid(self.click_key(z) + self.session_query(mean)[:, None]))
        beta = beta.masked_fill(~clicked[..., None], 0.0)
        vector: Tensor = (beta * states).sum(dim=1)
        return vector

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.n_items} items, hidden={self.hidden}, "
            f"neighbours={self.get_buffer('neighbours').shape[1]}, max_len={self.max_len})"
        )
