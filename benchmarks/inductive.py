"""Latency of a persona for a user who arrives after training (inductive, from the trained
HDGI memory) against retraining HDGI on the grown graph, in the same run.

Usage:
    python -m benchmarks.inductive [--interactions 100000] [--users 5000] [--items 5000]
        [--new-users 50] [--epochs 100]

A table-format dataset is generated with a fixed seed (``benchmarks.big_input.generate``),
ingested as ``bench-inductive`` (dropped at the end unless ``--keep``), and HDGI is trained
for ``--epochs`` epochs (no text embeddings: items start random, which does not change the
cost). Then ``--new-users`` users, each with 10 items drawn by popularity, are written one
by one (``add_user``) and given a persona (``add_user_personas``); the latency of each step
is printed as median and 95th percentile, beside the time HDGI takes to retrain.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.big_input import generate
from kgstore.connection import open_driver
from kgstore.graph import Database
from kgstore.settings import Neo4jSettings, kgrec_home
from kgstore.users import add_user
from recommender.cli import main as kgrec
from recommender.config import HDGIConfig
from recommender.pipelines.persona_learning import add_user_personas, learn_personas
from recommender.util.machine import machine

NAME = "bench-inductive"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--new-users", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the dataset afterwards")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    home = kgrec_home()
    with tempfile.TemporaryDirectory() as folder:
        generate(Path(folder), args.interactions, args.users, args.items)
        if kgrec(["ingest", NAME, "--path", folder, "--quiet"]) != 0:
            return 1
    config = HDGIConfig(epochs=args.epochs, patience=args.epochs)
    try:
        settings = Neo4jSettings.from_env()
        with open_driver(settings) as driver:
            graph = Database(driver, settings.database).graph(NAME)
            started = time.perf_counter()
            report = learn_personas(graph, home, config, progress=False)
            assert report is not None
            retrain = time.perf_counter() - started
            print(
                f"HDGI on {report.result.device}: {args.epochs} epochs, "
                f"{report.result.seconds_per_epoch:.3f} s/epoch; export, training and "
                f"publishing {report.users:,} personas: {retrain:.1f} s"
            )
            rng = np.random.default_rng(0)
            popular = rng.zipf(1.3, size=(args.new_users, 10)) % args.items
            writes, personas = [], []
            for number, picks in enumerate(popular):
                user = f"new-{number}"
                started = time.perf_counter()
                add_user(graph, user, [f"p{i}" for i in picks])
                writes.append(time.perf_counter() - started)
                started = time.perf_counter()
                add_user_personas(graph, home, [user])
                personas.append(time.perf_counter() - started)
    finally:
        if not args.keep:
            kgrec(["drop", NAME])
    for what, times in (("write the user's interactions", writes), ("inductive persona", personas)):
        ms = np.array(times) * 1000
        print(
            f"{what}: median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms "
            f"({len(ms)} users)"
        )
    print(
        f"retraining HDGI instead: {retrain:.1f} s, "
        f"{retrain / np.median(personas):,.0f}x the median inductive persona"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
