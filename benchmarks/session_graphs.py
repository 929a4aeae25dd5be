"""Training time per epoch of SR-GNN and GCE-GNN against kgrec's plain SASRec, in the same
run, on a dataset in the graph (its recorded split), with the validation NDCG@10 each
reaches.

Usage:
    python -m benchmarks.session_graphs --dataset ml-100k [--epochs 3] [--batch-size 64]

Both train on the same training sequences at the same width (64), maximum length (50),
batch size and learning rate (1e-3), full softmax, for ``--epochs`` epochs each; SR-GNN with
one propagation step, as the paper; GCE-GNN with the comparison's global graph (items within
2 clicks, 12 neighbours each, from the training sequences). Validation through the one
evaluator after every epoch.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import torch

from benchmarks.common import plain_inputs
from learners.sasrec.data import left_pad
from learners.sessiongraph import GCEGNN, SRGNN, global_graph
from learners.sessiongraph.train import train_session_model
from recommender.cli.common import graph as open_graph
from recommender.config import SASRecConfig
from recommender.evaluation.evaluator import rank_users
from recommender.evaluation.metrics import ndcg
from recommender.pipelines.inputs import PLAIN, fit
from recommender.util.machine import machine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    print(f"machine: {machine()}; torch threads: {torch.get_num_threads()}")
    with open_graph(args.dataset) as graph:
        inputs = plain_inputs(graph)
    data = inputs.data
    config = SASRecConfig(epochs=args.epochs, patience=args.epochs, batch_size=args.batch_size)
    _, sasrec = fit(PLAIN, None, inputs, config, 0, "cpu", progress=False)

    def validate(candidate: SRGNN | GCEGNN) -> float:
        def scorer(_: np.ndarray, histories: Sequence[np.ndarray]) -> torch.Tensor:
            return candidate.full_sort_predict(left_pad(list(histories), candidate.max_len))

        return ndcg(rank_users(scorer, data, "valid", batch_size=256), 10)

    results = [("SASRec (kgrec, plain)", sasrec)]
    graph_model = global_graph(data.train, data.n_items, epsilon=2, top=12)
    models: list[tuple[str, SRGNN | GCEGNN]] = [
        ("SR-GNN (kgrec)", SRGNN(data.n_items, hidden=config.hidden, steps=1,
                                 max_len=config.max_len)),
        ("GCE-GNN (kgrec)", GCEGNN(data.n_items, graph_model, hidden=config.hidden,
                                   max_len=config.max_len)),
    ]  # fmt: skip
    for name, model in models:
        result = train_session_model(
            model, data.train, validate, epochs=args.epochs, batch_size=args.batch_size,
            lr=config.lr, patience=args.epochs, device="cpu", progress=False,
        )  # fmt: skip
        results.append((name, result))
    print(f"\n{args.dataset}: {len(data.users):,} users, {data.n_items:,} items, "
          f"{args.epochs} epochs, batch {args.batch_size}\n")  # fmt: skip
    print("| model | s/epoch | examples/s | valid NDCG@10 per epoch |")
    print("|---|---|---|---|")
    for name, result in results:
        curve = ", ".join(f"{e.valid:.4f}" for e in result.curve)
        print(
            f"| {name} | {result.seconds_per_epoch:.1f} | {result.sequences_per_second:,.0f} | "
            f"{curve} |"
        )
    print(
        "\nSASRec's examples are windows of up to 50 targets; the session graphs' are single "
        "next-item "
        "targets (every prefix), so compare seconds per epoch, not examples per second."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
