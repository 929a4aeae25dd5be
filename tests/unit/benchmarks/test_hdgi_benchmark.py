"""The generated graph the scale benchmark writes to Neo4j matches its in-memory twin; its
timings cover the default HDGI and plain HDGI."""

import numpy as np

from benchmarks.hdgi import canonical, generated, row, time_hdgi


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


def test_timing_row_has_the_default_and_the_plain_hdgi() -> None:
    graph = generated(20_000, seed=1)
    timing = time_hdgi(graph.features, graph.has_feature, graph.edges, "cpu")
    assert timing.edges == sum(e.shape[1] for e in graph.edges.values())
    assert timing.per_epoch > 0 and timing.plain_per_epoch > 0 and timing.one_off > 0
    cells = row("generated", "", timing).split("|")[1:-1]
    assert len(cells) == 7 and cells[1].strip() == f"{timing.edges:,}"
