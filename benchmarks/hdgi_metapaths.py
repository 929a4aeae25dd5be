"""Does every metapath earn its place in the persona? HDGI variants that keep the semantic
attention from settling on one metapath, and a leave-one-metapath-out ablation, judged on
validation only.

Usage:
    python -m benchmarks.hdgi_metapaths --dataset ml-100k [--epochs 800] [--patience 100]
        [--seed 0] [--out FILE.json] [--only N [N ...]]

Needs the dataset in the graph (the export is cached); writes nothing to the graph. Each
row trains HDGI once (the product's settings otherwise) and scores its personas (centred,
as published) by how well each user's 20 nearest personas find the user's validation item
(NDCG@10 and HR@100 under the one evaluator, ``recommender.evaluation.neighbours``, the
signal ``kgrec personas`` chooses its training length by). The attention's normalised
entropy (0: one path, 1: all alike) and weights are printed beside. Test items are never
read.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from kgstore.connection import open_driver
from kgstore.export import export_graph
from kgstore.graph import Database
from kgstore.settings import Neo4jSettings, kgrec_home
from kgstore.splits import in_time_order, load_split, recorded_split_hash
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.encoder import attention_entropy, user_metapaths
from learners.sasrec.data import SequenceData
from recommender.config import HDGIConfig
from recommender.evaluation.metrics import summarise
from recommender.evaluation.neighbours import neighbour_ranks
from recommender.pipelines.persona_learning import active_users, centred, train_on_export
from recommender.util.machine import machine


def short(path: str) -> str:
    """A metapath by what it passes through: ``User-Item-Genre-Item-User`` -> ``Genre``."""
    parts = path.split("-")
    return "co-users" if len(parts) == 3 else parts[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--epochs", type=int, default=HDGIConfig().epochs)
    parser.add_argument("--patience", type=int, default=HDGIConfig().patience)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the rows as JSON here")
    parser.add_argument(
        "--only", type=int, nargs="+", help="run only these rows (0-based, in the printed order)"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    home = kgrec_home()
    settings = Neo4jSettings.from_env()
    with open_driver(settings) as driver:
        graph = Database(driver, settings.database).graph(args.dataset)
        export = export_graph(graph, home / "cache" / "export", progress=False)
        split = load_split(home, args.dataset, recorded_split_hash(graph))
    data = SequenceData.from_split(in_time_order(split), catalogue=export.ids["Item"].tolist())
    active = active_users(export)
    users = export.ids["User"][active]
    rows_of = {str(u): r for r, u in enumerate(data.users)}
    inputs = hdgi_inputs(
        to_hetero_data(export.features, export.has_feature, export.edges, random_dim=64)
    )
    paths = user_metapaths(inputs.type_pairs)
    base = HDGIConfig(epochs=args.epochs, patience=args.patience)
    changed: dict[str, dict[str, Any]] = {
        "semantic attention (the product's default)": {},
        "attention, each path's output layer-normalised": {"path_norm": True},
        "attention, metapath dropout 0.3": {"path_dropout": 0.3},
        "mean of the metapaths (no attention)": {"fusion": "mean"},
    }
    variants: list[tuple[str, HDGIConfig, list[tuple[str, ...]] | None]] = [
        (name, base.model_copy(update=change), None) for name, change in changed.items()
    ]
    for left in paths:
        rest = [p for p in paths if p != left]
        if rest:
            variants.append((f"mean, without {'-'.join(left)}", variants[3][1], rest))
    if args.only:
        if not all(0 <= i < len(variants) for i in args.only):
            parser.error(f"--only takes row numbers from 0 to {len(variants) - 1}")
        variants = [variants[i] for i in args.only]
    found: list[dict[str, Any]] = []
    for name, config, keep in variants:
        started = time.perf_counter()
        result = train_on_export(export, config, args.seed, progress=False, metapaths=keep)
        seconds = time.perf_counter() - started
        aligned = np.zeros((len(data.users), result.personas.shape[1]), np.float32)
        for persona, user in zip(centred(result.personas[active]), users, strict=True):
            if str(user) in rows_of:
                aligned[rows_of[str(user)]] = persona
        metrics = summarise(neighbour_ranks(aligned, data, "valid"))
        weights = np.array(list(result.attention.values()))
        row: dict[str, Any] = {
            "variant": name,
            "valid NDCG@10": round(metrics["NDCG@10"], 4),
            "valid HR@100": round(metrics["HR@100"], 4),
            "entropy": round(attention_entropy(weights.tolist()), 3),
            "weights": {k: round(v, 3) for k, v in result.attention.items()},
            "epochs": len(result.losses),
            "seconds": round(seconds, 1),
        }
        found.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{args.dataset}, seed {args.seed}: validation only, neighbours of each persona\n")
    print("| variant | valid NDCG@10 | valid HR@100 | entropy | weights | epochs |")
    print("|---|---|---|---|---|---|")
    for row in found:
        shown = ", ".join(f"{short(k)} {v}" for k, v in row["weights"].items())
        print(
            f"| {row['variant']} | {row['valid NDCG@10']:.4f} | {row['valid HR@100']:.4f} | "
            f"{row['entropy']:.3f} | {shown} | {row['epochs']} |"
        )  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(found, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
