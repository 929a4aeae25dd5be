"""The generated graph the scale benchmark writes to Neo4j matches its in-memory twin."""

import numpy as np

from benchmarks.hdgi import canonical, generated


def test_generated_graph_as_dataset_keeps_every_distinct_edge() -> None:
    graph = generated(20_000, seed=3)
    data = canonical(graph, "benchmark-generated-test")
    edges = graph.edges
    interactions = np.unique(edges[("User", "INTERACTED", "Item")], axis=1).shape[1]
    categories = np.unique(edges[("Item", "IN_CATEGORY", "Category")], axis=1).shape[1]
    nodes, relationships = data.expected_counts()
    assert relationships == {"INTERACTED": interactions, "IN_CATEGORY": categories}
    assert nodes["User"] == len(graph.features["User"])
    assert nodes["Item"] == len(graph.features["Item"])
    assert nodes["Category"] == 2_000
    assert set(data.interactions["split"]) == {"train"}
