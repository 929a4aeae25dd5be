"""The generated graph the scale benchmark writes to Neo4j matches its in-memory twin; its
timings cover the default HDGI and plain HDGI."""

from pathlib import Path

import numpy as np

from benchmarks.hdgi import canonical, generated, row, time_hdgi
from kgstore.export import GraphExport


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


def test_saved_export_is_timed_in_float32(tmp_path: Path) -> None:
    # A GPU host has no Neo4j: the benchmark loads saved exports, which may be stored at
    # half precision to keep them small; training must still see float32 features.
    graph = generated(20_000, seed=2)
    export = GraphExport("benchmark-saved", "v1")
    for label, features in graph.features.items():
        export.ids[label] = np.array([f"{label}{i}" for i in range(len(features))], object)
        export.features[label] = features.astype(np.float16)
        export.has_feature[label] = graph.has_feature[label]
    export.edges = graph.edges
    export.save(tmp_path / "saved.npz")
    loaded = GraphExport.load(tmp_path / "saved.npz")
    assert loaded.dataset == "benchmark-saved"
    assert all(f.dtype == np.float32 for f in loaded.features.values())
    np.testing.assert_array_equal(
        loaded.features["Item"], graph.features["Item"].astype(np.float16).astype(np.float32)
    )
    assert loaded.counts() == export.counts()
