"""How far can a representation of the training graph go on the persona probe's targets?

Fixed representations, computed straight from the training graph with no learning, go
through the same scorers, splits and seeds as ``kgrec probe``. They bound what any persona
learned from that graph can be expected to reach on each target, and show what the probe's
linear classifiers reward:

- the probe's baselines (mean of the user's item texts, and its PCA to ``--width``);
- the user's attribute shares (genres, categories: the share of the user's items carrying
  each), and the same averaged over co-users (User-Item-User); wide vocabularies are
  reduced to ``--width`` components by truncated SVD;
- collaborative codes: the SVD of the row-normalised user-item matrix;
- the shares padded with random columns up to ``--width``: what each dimension that is not
  about the target costs the classifier.

Usage:
    python -m benchmarks.probe_ceiling --dataset ml-100k [--seeds 0 1 2] [--width 64]

The "later" targets (each user's latest 20% of training items) are scored on representations
built from the graph without those items, as ``kgrec probe`` does.

The dataset must be ingested and embedded (``kgrec ingest``, ``kgrec embed``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from tqdm import tqdm

from kgstore.export import GraphExport, export_graph
from kgstore.settings import kgrec_home
from kgstore.splits import load_split, recorded_split_hash
from recommender.experiments.probe_tasks import (
    ProbeTask,
    SetTask,
    attribute_sets,
    held_out_set_task,
    held_out_task,
    item_attributes,
    mean_item_embeddings,
    most_frequent,
    probe_task,
    reduced,
    training_interactions,
    without_latest,
)
from recommender.util.machine import machine


def row_normalised(matrix: sp.spmatrix) -> sp.csr_matrix:
    degree = np.asarray(matrix.sum(axis=1)).ravel()
    degree[degree == 0] = 1
    normalised: sp.csr_matrix = sp.diags(1 / degree) @ sp.csr_matrix(matrix)
    return normalised


def attribute_shares(export: GraphExport, interactions: sp.csr_matrix) -> np.ndarray:
    """``(users, attributes)``: the share of each user's items in ``interactions`` that carry
    each attribute of the probe's type."""
    _, item_attribute = item_attributes(export)
    shares = row_normalised(interactions) @ item_attribute
    return np.asarray(shares.todense(), dtype=np.float32)


def co_user_mean(interactions: sp.csr_matrix, features: np.ndarray) -> np.ndarray:
    """Per user, the mean over their items of those items' users' ``features``."""
    mean: np.ndarray = row_normalised(interactions) @ (row_normalised(interactions.T) @ features)
    return mean.astype(np.float32)


def at_most(features: np.ndarray, width: int, seed: int) -> np.ndarray:
    """``features`` as they are if ``width`` columns or fewer, else their truncated SVD."""
    if features.shape[1] <= width:
        return features
    out: np.ndarray = TruncatedSVD(width, random_state=seed).fit_transform(features)
    return out.astype(np.float32)


def padded(features: np.ndarray, width: int, seed: int) -> np.ndarray:
    """``features`` with standard-normal columns appended up to ``width`` columns."""
    extra = max(width - features.shape[1], 0)
    noise = np.random.default_rng(seed).standard_normal((features.shape[0], extra))
    return np.hstack([features, noise.astype(np.float32)])


def representations(export: GraphExport, width: int, seed: int) -> dict[str, np.ndarray]:
    """Name -> ``(users, d)`` features; ``seed`` fixes the SVDs and the random columns."""
    interactions = training_interactions(export)
    text = mean_item_embeddings(export)
    shares = at_most(attribute_shares(export, interactions), width, seed)
    co_shares = co_user_mean(interactions, shares)
    rank = min(width, *interactions.shape) - 1
    collaborative = TruncatedSVD(rank, random_state=seed).fit_transform(
        row_normalised(interactions)
    )
    d = shares.shape[1]
    return {
        f"mean of item texts ({text.shape[1]}-d, probe baseline)": text,
        f"the same, PCA to {width}-d (probe baseline)": reduced(text, width, seed),
        f"attribute shares ({d}-d)": shares,
        f"co-users' attribute shares ({d}-d)": co_shares,
        f"own and co-users' shares ({2 * d}-d)": np.hstack([shares, co_shares]),
        f"attribute shares + random columns ({max(width, d)}-d)": padded(shares, width, seed),
        f"co-users' mean of item texts, PCA to {width}-d": reduced(
            co_user_mean(interactions, text), width, seed
        ),
        f"collaborative: SVD of the interactions ({rank}-d)": collaborative.astype(np.float32),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--width", type=int, default=64, help="the persona's size")
    args = parser.parse_args(argv)

    from recommender.cli.common import graph as open_graph

    home: Path = kgrec_home()
    with open_graph(args.dataset) as opened:
        export = export_graph(opened, home / "cache" / "export")
        split = load_split(home, args.dataset, recorded_split_hash(opened))
    tasks: dict[str, ProbeTask | SetTask] = {
        "held-out": held_out_task(export, split),
        "held-out sets": held_out_set_task(export, split),
        "training": probe_task(export),
    }
    # The later targets are about items left out of the graph the representations see.
    earlier, later = without_latest(export, split)
    later_tasks: dict[str, ProbeTask | SetTask] = {
        "later": most_frequent(earlier, later),
        "later sets": attribute_sets(earlier, later),
    }
    graphs = [(export, tasks), (earlier, later_tasks)]
    columns = [*tasks, *later_tasks]
    scores: dict[str, dict[str, list[float]]] = {}
    with tqdm(desc="probe fits", unit="fit") as bar:
        for seed in args.seeds:
            for graph, graph_tasks in graphs:
                built = representations(graph, args.width, seed)
                bar.total = len(args.seeds) * len(built) * len(columns)
                for name, features in built.items():
                    for task_name, task in graph_tasks.items():
                        first = next(iter(vars(task.score(features, seed)).values()))
                        scores.setdefault(name, {}).setdefault(task_name, []).append(float(first))
                        bar.update()
    print(f"# {args.dataset}, seeds {args.seeds}; {machine()}")
    print("first figure per target, mean ± standard deviation over the seeds")
    print(f"(accuracy; sets: macro ROC-AUC); {len(export.ids['User'])} users\n")
    print("| representation | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for name, per_task in scores.items():
        cells = [f"{np.mean(per_task[c]):.3f} ± {np.std(per_task[c]):.3f}" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
