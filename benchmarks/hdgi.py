"""Export edges/s and HDGI seconds per epoch: the two datasets, then generated power-law
graphs of growing size (up to ~5M edges) to show how the cost grows with edges.

Usage:
    python -m benchmarks.hdgi [--datasets ml-100k amazon-kg-books] [--sizes 0.5 1 2 5]

The datasets must be ingested (and embedded) already. Export is timed without its cache.
Generated graphs are built in memory (users with Pareto activity, items with Zipf
popularity, 4 attributes per item) and never touch Neo4j.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from kgstore.connection import open_driver
from kgstore.export import export_graph
from kgstore.settings import Neo4jSettings
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.train import train_hdgi
from recommender.machine import machine

EPOCHS = 5


def generated(edges: int, seed: int = 0, dim: int = 64) -> dict[str, object]:
    """A user-item-attribute graph with about ``edges`` edges and power-law degrees."""
    rng = np.random.default_rng(seed)
    users, items, attributes = edges // 20, edges // 40, 2_000
    interactions = int(edges * 0.9)
    activity = rng.pareto(1.5, users) + 1
    popularity = 1 / np.arange(1, items + 1) ** 0.9
    u = rng.choice(users, interactions, p=activity / activity.sum())
    i = rng.choice(items, interactions, p=popularity / popularity.sum())
    item_attr = np.vstack([np.repeat(np.arange(items), 4), rng.integers(0, attributes, items * 4)])
    return {
        "features": {
            "User": np.zeros((users, 0), np.float32),
            "Item": rng.standard_normal((items, dim)).astype(np.float32),
            "Category": rng.standard_normal((attributes, dim)).astype(np.float32),
        },
        "has_feature": {
            "User": np.zeros(users, bool),
            "Item": np.ones(items, bool),
            "Category": np.ones(attributes, bool),
        },
        "edges": {
            ("User", "INTERACTED", "Item"): np.vstack([u, i]),
            ("Item", "IN_CATEGORY", "Category"): item_attr,
        },
    }


def time_hdgi(features: dict, has_feature: dict, edges: dict, device: str) -> tuple[float, int]:  # type: ignore[type-arg]
    inputs = hdgi_inputs(to_hetero_data(features, has_feature, edges))
    result = train_hdgi(inputs, epochs=EPOCHS, patience=EPOCHS, device=device, progress=False)
    return result.seconds_per_epoch, sum(int(e.shape[1]) for e in edges.values())


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
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else "none used"
    print(
        f"machine: {machine()}; GPU: {gpu}; torch {torch.__version__}; "
        f"threads {torch.get_num_threads()}; {EPOCHS} epochs per figure"
    )
    print("| graph | edges | export edges/s | HDGI s/epoch | µs per edge-epoch |")
    print("| --- | ---: | ---: | ---: | ---: |")
    if args.datasets:
        settings = Neo4jSettings.from_env()
        with open_driver(settings) as driver:
            for name in args.datasets:
                started = time.perf_counter()
                export = export_graph(driver, settings.database, name, progress=False)
                seconds = time.perf_counter() - started
                per_epoch, edges = time_hdgi(
                    export.features, export.has_feature, export.edges, args.device
                )
                print(
                    f"| {name} | {edges:,} | {edges / seconds:,.0f} | {per_epoch:.3f} | "
                    f"{per_epoch / edges * 1e6:.2f} |",
                    flush=True,
                )
    for size in args.sizes:
        graph = generated(int(size * 1_000_000))
        per_epoch, edges = time_hdgi(
            graph["features"],
            graph["has_feature"],  # type: ignore[arg-type]
            graph["edges"],
            args.device,
        )  # type: ignore[arg-type]
        print(
            f"| generated power-law | {edges:,} | | {per_epoch:.3f} | "
            f"{per_epoch / edges * 1e6:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
