"""Training-only check of the counterfactual augmentation's diffusion: how much generated
sessions point at their targets (coherence, once each vector is mapped to its nearest
training item) for a noise schedule, a prediction target and several guidance weights, in
the item space of a kept plain SASRec. No validation or test item is read.

    python -m benchmarks.augmentation --dataset ml-100k --model PATH/none-id--plain--seed0.pt \
        [--predict clean|noise] [--schedule scaled|ddpm1000] [--guidance 0 2 5]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch
from torch.nn import functional as F

from benchmarks.common import plain_inputs
from learners.augmentation import AugmentConfig, SessionDiffusion, coherence, session_windows
from learners.augmentation.counterfactual import nearest_items
from learners.popularity import head_mask, item_popularity
from recommender.cli.common import graph as open_graph
from recommender.util.machine import machine

# DDPM's schedule made for 1,000 steps (the first settings) against one scaled to the steps.
SCHEDULES = {"ddpm1000": (1e-4, 0.02), "scaled": (5e-4, 0.1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", required=True, help="a kept plain SASRec (.pt)")
    parser.add_argument("--predict", choices=("clean", "noise"), default="clean")
    parser.add_argument("--schedule", choices=tuple(SCHEDULES), default="scaled")
    parser.add_argument("--guidance", type=float, nargs="+", default=[0.0, 2.0, 5.0])
    parser.add_argument("--epochs", type=int, default=AugmentConfig().diffusion.epochs)
    args = parser.parse_args()
    print(f"machine: {machine()}; torch threads: {torch.get_num_threads()}")
    with open_graph(args.dataset) as graph:
        data = plain_inputs(graph).data
    embeddings = torch.load(args.model, weights_only=True)["state"]["item_embedding.weight"]
    start, end = SCHEDULES[args.schedule]
    base = AugmentConfig()
    config = replace(
        base, diffusion=replace(base.diffusion, beta_start=start, beta_end=end,
                                predict=args.predict, epochs=args.epochs),
    )  # fmt: skip
    contexts, targets = session_windows(data.train, config.length)
    unit = F.normalize(embeddings.float(), dim=-1)
    scaled = unit * unit.shape[1] ** 0.5
    torch.manual_seed(0)
    diffusion = SessionDiffusion(config.length, unit.shape[1], config.diffusion)
    started = time.perf_counter()
    diffusion.fit(scaled[torch.from_numpy(contexts)], scaled[torch.from_numpy(targets)], 0)
    print(f"diffusion: {config.diffusion.epochs} epochs in {time.perf_counter() - started:.0f} s")
    popularity = item_popularity(data.train, data.n_items)
    tail = ~head_mask(popularity, config.head_share)
    seen = np.zeros(data.n_items + 1, bool)
    seen[targets] = True
    chosen = np.random.default_rng(0).choice(
        np.flatnonzero(tail & seen), size=round(config.ratio * len(data.train))
    )
    allowed = np.flatnonzero(popularity > 0)
    real = np.concatenate([contexts, targets[:, None]], axis=1)
    print(f"real training sessions: coherence {coherence(list(real), unit):.3f}")
    for w in args.guidance:
        vectors = diffusion.sample(scaled[torch.from_numpy(chosen)], w, seed=0)
        sessions = nearest_items(vectors, unit, allowed, chosen)
        distinct = len({int(i) for s in sessions for i in s[:-1]})
        print(
            f"{args.schedule}, {args.predict} predicted, guidance {w:g}: coherence "
            f"{coherence(sessions, unit):.3f}, {distinct} distinct items"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
