"""Seconds per training epoch of kgrec's SASRec and of the RecBole peers at the settings
``kgrec experiment compare`` tries (its grids, :mod:`recommender.experiments.grids`), back
to back in one run on the same split, so their ratio holds on a busy machine.

Usage:
    python -m benchmarks.peer_speed [--dataset ml-100k] [--peers SASRec] [--budget 2]
        [--kgrec-epochs 3] [--peer-epochs 1]

kgrec's SASRec trains through the comparison's own path (plain SASRec, seed 0); each peer
through the comparison's RecBole driver, stopped after ``--peer-epochs`` (its epochs are
all alike: every prefix of every training sequence once). Nothing is kept. The dataset
must be ingested.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmarks.common import sequence_inputs
from kgstore.settings import kgrec_home
from kgstore.splits import in_time_order, load_split
from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.experiments.grids import BUDGET, PEER_GRIDS, kgrec_configs
from recommender.experiments.peers.driver import (
    RESUME,
    PeerPaused,
    PeerSpec,
    recbole_python,
    run_peer,
)
from recommender.pipelines.inputs import PLAIN, fit
from recommender.util.machine import accelerator, machine


def kgrec_seconds(data: SequenceData, config: SASRecConfig, device: str) -> float:
    """Mean seconds per training epoch (validation left out) of the plain SASRec (seed 0)
    over ``config.epochs`` epochs."""
    inputs = sequence_inputs(data)
    _, result = fit(PLAIN, None, inputs, config, 0, device, progress=False)
    return float(np.mean([epoch.seconds for epoch in result.curve]))


def peer_seconds(python: Path, split: pd.DataFrame, data: SequenceData, spec: PeerSpec,
                 epochs: int, max_len: int, device: str) -> float:  # fmt: skip
    """Mean seconds per training epoch (validation left out, as for kgrec) of one RecBole
    run (seed 0) stopped after ``epochs``."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "run"
        with contextlib.suppress(PeerPaused):
            run_peer(
                python, split, data, spec, 0, work, epochs + 1, epochs + 1, max_len, device,
                pause_after=epochs,
            )  # fmt: skip
        state = torch.load(work / RESUME, map_location="cpu", weights_only=False)
    return float(np.mean(state["epoch_seconds"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--peers", nargs="+", default=["SASRec"], choices=sorted(PEER_GRIDS))
    parser.add_argument("--budget", type=int, default=2, help="configurations per model")
    parser.add_argument("--kgrec-epochs", type=int, default=3)
    parser.add_argument("--peer-epochs", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--venv", type=Path, default=kgrec_home() / "bench" / "recbole-venv")
    args = parser.parse_args()
    if not 1 <= args.budget <= BUDGET:
        parser.error(f"--budget must be 1 to {BUDGET}")

    split = load_split(kgrec_home(), args.dataset)
    data = SequenceData.from_split(in_time_order(split))
    python = recbole_python(args.venv)
    print(f"machine: {machine()}; accelerator: {accelerator()}; torch {torch.__version__}; "
          f"{torch.get_num_threads()} threads; device {args.device}", flush=True)  # fmt: skip
    base = SASRecConfig(epochs=args.kgrec_epochs, patience=args.kgrec_epochs)
    rows: list[tuple[str, float]] = []
    for config in kgrec_configs(base, args.budget):
        name = f"kgrec SASRec (batch {config.batch_size}, dropout {config.dropout})"
        rows.append((name, kgrec_seconds(data, config, args.device)))
        print(f"{name}: {rows[-1][1]:.1f} s/epoch", flush=True)
    fastest = min(seconds for _, seconds in rows)
    for model in args.peers:
        for settings in PEER_GRIDS[model][: args.budget]:
            spec = PeerSpec(model, settings)
            seconds = peer_seconds(
                python, split, data, spec, args.peer_epochs, base.max_len, args.device
            )
            rows.append((f"RecBole {spec.name}", seconds))
            print(f"RecBole {spec.name}: {seconds:.1f} s/epoch", flush=True)
    print(f"\n{args.dataset}: seconds per training epoch, one after another in this run")
    print("| model and settings | s/epoch | over kgrec's fastest |")
    print("| --- | ---: | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {seconds / fastest:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
