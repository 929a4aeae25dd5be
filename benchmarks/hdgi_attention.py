"""Why HDGI's semantic attention settles on one metapath: the scale of each metapath's
output and the attention's scores during training, with and without per-path
normalisation, and the attention's entropy at the end.

Usage:
    python -m benchmarks.hdgi_attention --dataset ml-100k [--epochs 800] [--seed 0]

Needs the dataset in the graph (the export is cached). Prints, every ``--every`` epochs,
each metapath's mean output norm, its attention score (before the softmax) and weight;
then the final weights and their entropy (0 = one path, 1 = uniform, normalised by
log P).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np
import torch

from kgstore.connection import open_driver
from kgstore.export import export_graph
from kgstore.graph import Database
from kgstore.settings import Neo4jSettings, kgrec_home
from learners.hdgi import encoder as encoder_module
from recommender.config import HDGIConfig
from recommender.pipelines.persona_learning import train_on_export
from recommender.util.machine import machine


def entropy(weights: np.ndarray) -> float:
    """Normalised entropy of attention weights: 0 for one path, 1 for all alike."""
    p = np.clip(weights, 1e-12, 1.0)
    return float(-(p * np.log(p)).sum() / np.log(len(p))) if len(p) > 1 else 0.0


def watch(every: int) -> tuple[list[dict[str, Any]], list[int]]:
    """Records, every ``every`` forward passes of the semantic attention in training, each
    path's mean output norm, score and weight; also the pass counter (reset it per run)."""
    log: list[dict[str, Any]] = []
    original = encoder_module.SemanticAttention.forward
    calls = [0]

    def forward(self: Any, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fused, weights = original(self, z)
        if self.training and calls[0] % every == 0:
            with torch.no_grad():
                scores = self.project(z).mean(dim=1).squeeze(-1)
                log.append(
                    {
                        "epoch": calls[0] // 2,  # real and corrupted pass per epoch
                        "norm": z.norm(dim=-1).mean(dim=1).cpu().numpy(),
                        "score": scores.cpu().numpy(),
                        "weight": weights.detach().cpu().numpy(),
                    }
                )
        calls[0] += 1
        return fused, weights

    encoder_module.SemanticAttention.forward = forward  # type: ignore[method-assign]
    return log, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--epochs", type=int, default=HDGIConfig().epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=200, help="forward passes between rows")
    args = parser.parse_args()
    print(f"machine: {machine()}; torch threads {torch.get_num_threads()}")
    settings = Neo4jSettings.from_env(create_local_password="NEO4J_PASSWORD" not in os.environ)
    with open_driver(settings) as driver:
        graph = Database(driver, settings.database).graph(args.dataset)
        export = export_graph(graph, kgrec_home() / "cache" / "export", progress=False)
    log, calls = watch(args.every)
    for path_norm in (False, True):
        config = HDGIConfig(epochs=args.epochs, path_norm=path_norm)
        log.clear()
        calls[0] = 0
        result = train_on_export(export, config, args.seed, "cpu", progress=False)
        names = list(result.attention)
        print(f"\n{args.dataset}, path_norm={path_norm}: {len(result.losses)} epochs, "
              f"best {result.best_epoch}, loss {result.losses[-1]:.4f}")  # fmt: skip
        for row in log:
            cells = "  ".join(
                f"{n.split('-')[2] if n.count('-') > 2 else 'UIU'}: |z| {row['norm'][k]:.2f} "
                f"s {row['score'][k]:+.3f} w {row['weight'][k]:.3f}"
                for k, n in enumerate(names)
            )
            print(f"  epoch {row['epoch']:4d}  {cells}")
        weights = np.array(list(result.attention.values()))
        for name, weight in result.attention.items():
            print(f"  {name:34s} {weight:.3f}")
        print(f"  attention entropy (normalised) {entropy(weights):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
