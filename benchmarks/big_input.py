"""Peak memory and time of inspect, ingest and embed on a large generated dataset in the
table format (CSV), each stage in its own process.

Usage:
    python -m benchmarks.big_input [--interactions 1000000] [--users 50000] [--items 20000]

The dataset is generated under a temporary folder with a fixed seed (popularity follows a
Zipf law; titles are short made-up names, so embedding measures the model, not the text);
it is ingested under the name ``big-<n>``, which is dropped at the end unless ``--keep``.
Peak RSS is each stage's own (``ru_maxrss`` of the process that ran it), next to the size
of the interactions file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.util.machine import machine

WORDS = [
    *("red", "blue", "small", "large", "classic", "modern"),
    *("deluxe", "basic", "smart", "pocket", "travel", "home"),
]


def generate(folder: Path, interactions: int, users: int, items: int, seed: int = 0) -> Path:
    """``interactions.csv`` and ``items.csv`` (title, brand) in ``folder``."""
    rng = np.random.default_rng(seed)
    ranks = rng.zipf(1.3, size=interactions) % items
    user = rng.integers(0, users, size=interactions)
    frame = pd.DataFrame(
        {
            "user": [f"u{u}" for u in user],
            "item": [f"p{i}" for i in ranks],
            "timestamp": np.sort(rng.integers(1_600_000_000, 1_700_000_000, size=interactions)),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "interactions.csv", index=False)
    pd.DataFrame(
        {
            "item": [f"p{i}" for i in range(items)],
            "title": [
                f"{WORDS[i % 12].title()} {WORDS[(i // 12) % 12]} item {i}" for i in range(items)
            ],
            "brand": [f"brand {i % 300}" for i in range(items)],
        }
    ).to_csv(folder / "items.csv", index=False)
    return folder / "interactions.csv"


PROBE = (
    "import json, resource, sys\n"
    "from recommender.cli import main\n"
    "code = main(json.loads(sys.argv[1]))\n"
    "print('peak-kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def stage(command: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS in MiB of one ``kgrec`` command, in a process of its own."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(command)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    peak = [line for line in done.stderr.splitlines() if line.startswith("peak-kib")][-1]
    return seconds, int(peak.split()[1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the dataset in the graph")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    name = f"big-{args.interactions}"
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / name
        started = time.perf_counter()
        inter = generate(folder, args.interactions, args.users, args.items)
        size = inter.stat().st_size / 2**20
        print(
            f"generated {args.interactions:,} interactions ({size:.1f} MiB CSV), "
            f"{args.items:,} items in {time.perf_counter() - started:.0f} s"
        )
        stages = [
            ("inspect", ["inspect", str(folder)]),
            ("ingest", ["ingest", name, "--path", str(folder), "--quiet"]),
            ("embed", ["embed", "--dataset", name, "--quiet"]),
        ]
        try:
            for label, command in stages:
                seconds, peak = stage(command)
                print(
                    f"  {label:8s} {seconds:7.1f} s   peak RSS {peak:7.0f} MiB "
                    f"({peak / size:.1f}x the interactions file)"
                )
        finally:
            if not args.keep:
                subprocess.run([sys.executable, "-m", "recommender.cli", "drop", name],
                               check=False, stdout=subprocess.DEVNULL)  # fmt: skip
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
