"""Session graphs (SR-GNN, Wu et al. 2019): a session's distinct items as nodes, each
transition between consecutive clicks as a directed edge, and two normalised adjacencies,
one for outgoing and one for incoming edges.

- **Nodes**: the session's distinct items in the order they first occur; ``alias`` maps each
  click to its node.
- **Edges**: one per distinct transition ``a -> b`` (a repeated transition counts once, a
  self-loop ``a -> a`` is kept).
- **Weights**: ``out[i, j] = 1 / outdegree(i)`` for an edge ``i -> j``, and
  ``in[i, j] = 1 / indegree(i)`` for an edge ``j -> i``: each node averages over its
  successors and over its predecessors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True)
class SessionGraph:
    nodes: np.ndarray  # (n,) item indices, first occurrence order
    alias: np.ndarray  # (length,) node of each click
    edges: np.ndarray  # (2, m) distinct transitions between nodes (source, target)
    out_weights: np.ndarray  # (n, n)
    in_weights: np.ndarray  # (n, n)


def session_graph(session: Sequence[int]) -> SessionGraph:
    """The graph of one session of item indices (padding ``0`` ignored)."""
    clicks = [int(i) for i in session if int(i) != 0]
    if not clicks:
        raise ValueError("an empty session has no graph")
    nodes = list(dict.fromkeys(clicks))
    position = {item: k for k, item in enumerate(nodes)}
    alias = np.array([position[i] for i in clicks], np.int64)
    pairs = sorted(set(zip(alias[:-1].tolist(), alias[1:].tolist(), strict=True)))
    n = len(nodes)
    adjacency = np.zeros((n, n), np.float32)
    for source, target in pairs:
        adjacency[source, target] = 1.0
    out_degree = adjacency.sum(axis=1, keepdims=True)
    in_degree = adjacency.sum(axis=0, keepdims=True).T
    out_weights = np.divide(
        adjacency, out_degree, out=np.zeros_like(adjacency), where=out_degree > 0
    )
    in_weights = np.divide(
        adjacency.T, in_degree, out=np.zeros_like(adjacency), where=in_degree > 0
    )
    edges = np.array(pairs, np.int64).T.reshape(2, -1)
    return SessionGraph(np.array(nodes, np.int64), alias, edges, out_weights, in_weights)


@dataclass(frozen=True)
class GraphBatch:
    """Session graphs of a batch, padded to the longest session: ``items`` ``(B, N)``
    (0 = no node), ``alias`` ``(B, L)`` (node of each click, -1 where the session is
    padding), ``out_weights`` and ``in_weights`` ``(B, N, N)``, and ``last`` ``(B,)`` the node
    of each session's last click."""

    items: Tensor
    alias: Tensor
    out_weights: Tensor
    in_weights: Tensor
    last: Tensor

    @property
    def relations(self) -> Tensor:
        """``(B, N, N)`` GCE-GNN's edge types between nodes: 1 a node with itself, 2 an edge
        out only, 3 in only, 4 both ways, 0 none (and padding)."""
        out = self.out_weights > 0
        into = out.transpose(1, 2)
        kinds = torch.zeros(out.shape, dtype=torch.long, device=out.device)
        kinds[out & ~into] = 2
        kinds[into & ~out] = 3
        kinds[out & into] = 4
        real = self.items > 0
        eye = torch.eye(out.shape[1], dtype=torch.bool, device=out.device)[None] & real[:, None]
        kinds[eye] = 1
        return kinds


def batch_graphs(sequences: Tensor) -> GraphBatch:
    """The session graphs of left-padded sequences ``(B, L)`` (every row needs an item)."""
    rows = sequences.cpu().numpy()
    graphs = [session_graph(row) for row in rows]
    size = max(len(g.nodes) for g in graphs)
    batch, length = rows.shape
    items = np.zeros((batch, size), np.int64)
    alias = np.full((batch, length), -1, np.int64)
    out_weights = np.zeros((batch, size, size), np.float32)
    in_weights = np.zeros((batch, size, size), np.float32)
    last = np.zeros(batch, np.int64)
    for b, graph in enumerate(graphs):
        n = len(graph.nodes)
        items[b, :n] = graph.nodes
        alias[b, length - len(graph.alias) :] = graph.alias
        out_weights[b, :n, :n] = graph.out_weights
        in_weights[b, :n, :n] = graph.in_weights
        last[b] = graph.alias[-1]
    device = sequences.device
    return GraphBatch(
        torch.from_numpy(items).to(device),
        torch.from_numpy(alias).to(device),
        torch.from_numpy(out_weights).to(device),
        torch.from_numpy(in_weights).to(device),
        torch.from_numpy(last).to(device),
    )
