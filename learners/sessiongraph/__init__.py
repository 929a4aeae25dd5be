"""Session-graph recommenders (the family the seeds build on): SR-GNN on PyTorch."""

from learners.sessiongraph.graph import GraphBatch, SessionGraph, batch_graphs, session_graph
from learners.sessiongraph.srgnn import SRGNN

__all__ = ["SRGNN", "GraphBatch", "SessionGraph", "batch_graphs", "session_graph"]
