"""Export edges/s and HDGI seconds per epoch: the two datasets, then generated power-law
graphs of growing size (up to ~5M edges) to show how the cost grows with edges.

Usage:
    python -m benchmarks.hdgi [--datasets ml-100k amazon-kg-books] [--sizes 0.5 1 2 5]
                              [--neo4j-sizes 5] [--exports FILE.npz ...] [--epochs 5]
                              [--full] [--seeds 0 1 2] [--save-personas DIR]
                              [--device cuda]

The datasets must be ingested (and embedded) already. Export is timed without its cache.
``--exports`` times saved exports (``KGREC_HOME/cache/export/*.npz``) instead, for a
machine without Neo4j, such as a GPU host. Generated graphs (users with Pareto activity,
items with Zipf popularity, 4 categories per item) are built in memory. Those of
``--neo4j-sizes`` are also ingested into Neo4j as a temporary dataset, exported back (timed,
counts checked against what was written) and dropped again. ``--full`` also times the
product's whole persona training (defaults, early stopping) on each dataset, per
``--seeds``; ``--save-personas DIR`` keeps those personas for ``kgrec probe --personas DIR``.
On CUDA a short warm-up runs first, so no figure pays for the context and kernel start-up.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from kgstore.connection import open_driver
from kgstore.datasets.canonical import CanonicalDataset
from kgstore.export import GraphExport, export_graph
from kgstore.graph import Database
from kgstore.ingest import Ingestor
from kgstore.settings import Neo4jSettings
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.train import TrainResult, train_hdgi
from recommender.config import HDGIConfig, KgrecSettings
from recommender.experiments.saved_personas import save_persona_run
from recommender.pipelines.persona_learning import train_on_export
from recommender.util.machine import machine

EPOCHS = 5


@dataclass
class GeneratedGraph:
    features: dict[str, np.ndarray]
    has_feature: dict[str, np.ndarray]
    edges: dict[tuple[str, str, str], np.ndarray]


def generated(edges: int, seed: int = 0, dim: int = 64) -> GeneratedGraph:
    """A user-item-attribute graph with about ``edges`` edges and power-law degrees."""
    rng = np.random.default_rng(seed)
    users, items, attributes = edges // 20, edges // 40, 2_000
    interactions = int(edges * 0.9)
    activity = rng.pareto(1.5, users) + 1
    popularity = 1 / np.arange(1, items + 1) ** 0.9
    u = rng.choice(users, interactions, p=activity / activity.sum())
    i = rng.choice(items, interactions, p=popularity / popularity.sum())
    item_attr = np.vstack([np.repeat(np.arange(items), 4), rng.integers(0, attributes, items * 4)])
    return GeneratedGraph(
        features={
            "User": np.zeros((users, 0), np.float32),
            "Item": rng.standard_normal((items, dim)).astype(np.float32),
            "Category": rng.standard_normal((attributes, dim)).astype(np.float32),
        },
        has_feature={
            "User": np.zeros(users, bool),
            "Item": np.ones(items, bool),
            "Category": np.ones(attributes, bool),
        },
        edges={
            ("User", "INTERACTED", "Item"): np.vstack([u, i]),
            ("Item", "IN_CATEGORY", "Category"): item_attr,
        },
    )


def canonical(graph: GeneratedGraph, name: str) -> CanonicalDataset:
    """The generated graph as a dataset to ingest: every interaction in the training split
    (the export reads training interactions only), categories as ``Category`` entities."""
    edges, features = graph.edges, graph.features
    u, i = edges[("User", "INTERACTED", "Item")]
    items, attribute = edges[("Item", "IN_CATEGORY", "Category")]
    n_users, n_items = len(features["User"]), len(features["Item"])
    n_categories = len(features["Category"])
    interactions = pd.DataFrame(
        {
            "user": _names("u", u),
            "item": _names("i", i),
            "rating": 1.0,
            "timestamp": np.arange(len(u)),
            "position": np.arange(len(u)),
            "split": "train",
        }
    )
    triples = pd.DataFrame(
        {
            "head": _names("i", items),
            "head_label": "Item",
            "type": "IN_CATEGORY",
            "tail": _names("c", attribute),
            "tail_label": "Category",
        }
    ).drop_duplicates()
    return CanonicalDataset(
        name,
        interactions,
        pd.DataFrame({"id": _names("u", np.arange(n_users))}),
        pd.DataFrame({"id": (ids := _names("i", np.arange(n_items))), "title": ids}),
        pd.DataFrame(
            {
                "id": (cats := _names("c", np.arange(n_categories))),
                "label": "Category",
                "name": cats,
            }
        ),
        triples,
    )


def _names(prefix: str, index: np.ndarray) -> np.ndarray:
    return np.char.add(prefix, index.astype(str)).astype(object)


def time_neo4j_export(
    db: Database, graph: GeneratedGraph, name: str
) -> tuple[int, float, float, GraphExport]:
    """Ingest the graph as dataset ``name``, export it back (no cache), drop it.

    Returns (relationships written, ingest seconds, export seconds, the export)."""
    data = canonical(graph, name)
    _, expected = data.expected_counts()
    with tempfile.TemporaryDirectory() as home:
        settings = KgrecSettings()
        ingestor = Ingestor(
            db, Path(home), settings.embedding_dim, settings.persona_dim, progress=True
        )
        try:
            started = time.perf_counter()
            ingestor.ingest(data)
            ingested = time.perf_counter() - started
            started = time.perf_counter()
            export = export_graph(db.graph(name), progress=True)
            exported = time.perf_counter() - started
        finally:
            ingestor.drop(name)
    _, counted = export.counts()
    if counted != expected:
        raise RuntimeError(f"export of {name} has {counted} edges, {expected} were written")
    return sum(expected.values()), ingested, exported, export


@dataclass(frozen=True)
class Timing:
    per_epoch: float  # seconds per epoch, the product's default HDGI (both auxiliary terms)
    one_off: float  # seconds outside the epochs: the terms' targets, the model, the final pass
    plain_per_epoch: float  # seconds per epoch of plain HDGI, the peer the terms cost against
    edges: int


def time_hdgi(
    features: dict[str, np.ndarray],
    has_feature: dict[str, np.ndarray],
    edges: dict[tuple[str, str, str], np.ndarray],
    device: str,
    epochs: int = EPOCHS,
) -> Timing:
    """The product's default HDGI against plain HDGI on one graph."""
    inputs = hdgi_inputs(to_hetero_data(features, has_feature, edges))
    started = time.perf_counter()
    config = HDGIConfig(epochs=epochs, patience=epochs)
    result = train_hdgi(inputs, **config.model_dump(), device=device, progress=False)
    total = time.perf_counter() - started
    one_off = total - result.seconds_per_epoch * len(result.losses)
    plain_config = config.model_copy(update={"taste_weight": 0.0, "profile_weight": 0.0})
    plain = train_hdgi(inputs, **plain_config.model_dump(), device=device, progress=False)
    edge_count = sum(int(e.shape[1]) for e in edges.values())
    return Timing(result.seconds_per_epoch, one_off, plain.seconds_per_epoch, edge_count)


@dataclass(frozen=True)
class FullTraining:
    epochs: int  # epochs run before early stopping (or the cap)
    best_epoch: int
    seconds: float  # the whole call: targets, model, every epoch, the final pass


def time_full(export: GraphExport, device: str, seed: int = 0) -> tuple[FullTraining, TrainResult]:
    """The product's persona training as ``kgrec personas`` runs it (defaults)."""
    started = time.perf_counter()
    result = train_on_export(export, HDGIConfig(), seed, device, progress=False)
    seconds = time.perf_counter() - started
    return FullTraining(len(result.losses), result.best_epoch, seconds), result


def warm_up(device: str) -> None:
    """Start CUDA's context, allocator and sparse kernels outside every timed figure."""
    if device.startswith("cuda"):
        graph = generated(50_000, seed=9)
        time_hdgi(graph.features, graph.has_feature, graph.edges, device, epochs=3)


def row(graph: str, export_rate: str, timing: Timing) -> str:
    return (
        f"| {graph} | {timing.edges:,} | {export_rate} | {timing.per_epoch:.3f} | "
        f"{timing.per_epoch / timing.edges * 1e6:.3f} | {timing.one_off:.1f} | "
        f"{timing.plain_per_epoch:.3f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["ml-100k", "amazon-kg-books"])
    parser.add_argument(
        "--sizes",
        nargs="*",
        type=float,
        default=[0.5, 1, 2, 5],
        help="generated graph sizes in millions of edges",
    )
    parser.add_argument(
        "--neo4j-sizes",
        nargs="*",
        type=float,
        default=[5.5],
        help="generated graph sizes (millions of edges drawn; repeated user-item pairs merge, "
        "so 5.5 gives about 5.2M distinct edges) also written to Neo4j and exported",
    )
    parser.add_argument(
        "--exports",
        nargs="*",
        type=Path,
        default=[],
        help="saved exports (.npz) to time instead of exporting --datasets from Neo4j",
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs per figure")
    parser.add_argument(
        "--full", action="store_true", help="also time the whole persona training per dataset"
    )
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=[0], help="seeds of the whole training (--full)"
    )
    parser.add_argument(
        "--save-personas",
        type=Path,
        default=None,
        help="folder for the personas of the whole training, for `kgrec probe --personas`",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    missing = [str(p) for p in args.exports if not p.exists()]
    if missing:
        parser.error(f"no saved export at {', '.join(missing)}")
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "none used"
    print(
        f"machine: {machine()}; GPU: {gpu}; torch {torch.__version__}; "
        f"threads {torch.get_num_threads()}; {args.epochs} epochs per figure"
    )
    warm_up(args.device)
    datasets: list[GraphExport] = []
    print(
        "| graph | edges | export edges/s | HDGI s/epoch | µs per edge-epoch | one-off s "
        "| plain HDGI s/epoch |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    if args.datasets:
        settings = Neo4jSettings.from_env()
        with open_driver(settings) as driver:
            db = Database(driver, settings.database)
            for name in args.datasets:
                started = time.perf_counter()
                export = export_graph(db.graph(name), progress=False)
                seconds = time.perf_counter() - started
                timing = time_hdgi(
                    export.features, export.has_feature, export.edges, args.device, args.epochs
                )
                print(row(name, f"{timing.edges / seconds:,.0f}", timing), flush=True)
                datasets.append(export)
    for path in args.exports:
        export = GraphExport.load(path)
        timing = time_hdgi(
            export.features, export.has_feature, export.edges, args.device, args.epochs
        )
        print(row(f"{export.dataset} (saved export)", "", timing), flush=True)
        datasets.append(export)
    if args.neo4j_sizes:
        settings = Neo4jSettings.from_env()
        with open_driver(settings) as driver:
            db = Database(driver, settings.database)
            for size in args.neo4j_sizes:
                graph = generated(int(size * 1_000_000))
                name = f"benchmark-generated-{size:g}m"
                written, ingested, exported, export = time_neo4j_export(db, graph, name)
                timing = time_hdgi(
                    export.features, export.has_feature, export.edges, args.device, args.epochs
                )
                print(
                    row(
                        "generated power-law, through Neo4j",
                        f"{timing.edges / exported:,.0f}",
                        timing,
                    ),
                    f"(ingest {written / ingested:,.0f} rels/s)",
                    flush=True,
                )
    for size in args.sizes:
        graph = generated(int(size * 1_000_000))
        timing = time_hdgi(graph.features, graph.has_feature, graph.edges, args.device, args.epochs)
        print(row("generated power-law", "", timing), flush=True)
    if args.full and datasets:
        print(
            "\n| dataset | seed | whole persona training s | epochs run | best epoch "
            "| s per epoch |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for export in datasets:
            for seed in args.seeds:
                full, result = time_full(export, args.device, seed)
                print(
                    f"| {export.dataset} | {seed} | {full.seconds:.1f} | {full.epochs} | "
                    f"{full.best_epoch} | {full.seconds / full.epochs:.3f} |",
                    flush=True,
                )
                if args.save_personas is not None:
                    save_persona_run(args.save_personas, export, seed, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
