"""Session-graph recommenders (the family the seeds build on): SR-GNN and GCE-GNN."""

from learners.sessiongraph.gcegnn import GCEGNN
from learners.sessiongraph.global_graph import GlobalGraph, global_graph
from learners.sessiongraph.graph import GraphBatch, SessionGraph, batch_graphs, session_graph
from learners.sessiongraph.srgnn import SRGNN

__all__ = [
    "GCEGNN",
    "SRGNN",
    "GlobalGraph",
    "GraphBatch",
    "SessionGraph",
    "batch_graphs",
    "global_graph",
    "session_graph",
]
