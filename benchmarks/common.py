"""What several benchmarks share: a dataset's graph, its export and its plain training
inputs (the recorded split, the catalogue), from the configured Neo4j."""

from __future__ import annotations

import numpy as np

from kgstore.export import GraphExport, export_graph
from kgstore.graph import Graph
from kgstore.settings import kgrec_home
from learners.sasrec.data import SequenceData
from recommender.pipelines.inputs import PLAIN, TrainingInputs, load_inputs


def graph_export(graph: Graph) -> GraphExport:
    """The dataset's export, from the cache when the graph has not changed."""
    return export_graph(graph, kgrec_home() / "cache" / "export", progress=False)


def plain_inputs(graph: Graph) -> TrainingInputs:
    """The sequences and catalogue of the dataset's recorded split (no user vectors)."""
    return load_inputs(graph, kgrec_home(), graph_export(graph), (PLAIN,))


def sequence_inputs(data: SequenceData, name: str = "benchmark") -> TrainingInputs:
    """Training inputs of the plain SASRec from sequences alone (it reads no item or user
    vectors), without a graph."""
    return TrainingInputs(name, data, np.zeros((data.n_items + 1, 1), np.float32), {})
