"""Does a change to the code train exactly as before? The same short trainings on a real
dataset under this checkout and under an earlier revision, compared bit for bit.

Each model the comparison's rows train (plain SASRec, the persona retriever, SR-GNN,
GCE-GNN) is trained for a few epochs from seed 0 through the product's own entry points,
once with the earlier revision's code and once with this checkout's, each in its own
process on one CPU thread; the per-epoch losses and validation scores, the best epoch and a
digest of the final weights must all be equal. This is the evidence an entry of
``recommender.experiments.seedrecords.EQUIVALENT`` needs (ADR 0023): a change that passes
trains and scores as the earlier code did, so the earlier code's records stay valid.

Usage:
    python -m benchmarks.same_training --dataset ml-100k --base REV [--epochs 2]
        [--models sasrec persona srgnn gcegnn]

The dataset must be ingested, embedded and have personas (``kgrec status`` says).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODELS = ("sasrec", "persona", "srgnn", "gcegnn")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--base", help="the earlier revision (a commit, branch or tag)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_train(args.dataset, args.epochs, args.models)))
        return 0
    if args.base is None:
        parser.error("--base is required")
    from kgstore.settings import kgrec_home
    from recommender.util.machine import machine

    print(f"machine: {machine()}")
    root = Path(_git("rev-parse", "--show-toplevel"))
    base, head = _git("rev-parse", args.base), _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    print(f"base {args.base} ({base[:12]}) against this checkout ({head[:12]}"
          + (", with uncommitted changes)" if dirty else ")"))  # fmt: skip
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", base], cwd=root, check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        for name, tree in (("base", Path(folder)), ("this checkout", root)):
            started = time.perf_counter()
            env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1", "KGREC_HOME": str(kgrec_home())}  # fmt: skip
            child = [sys.executable, str(Path(__file__).resolve()), "--child",
                     "--dataset", args.dataset, "--epochs", str(args.epochs),
                     "--models", *args.models]  # fmt: skip
            done = subprocess.run(child, cwd=root, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stderr[-4000:], file=sys.stderr)
                print(f"{name}: the trainings failed (exit {done.returncode})")
                return 2
            found[name] = json.loads(done.stdout.strip().splitlines()[-1])
            code = Path(found[name].pop("code"))
            if not code.is_relative_to(tree):  # the revision's code, not an installed copy
                print(f"{name}: the trainings read code from {code}, not from {tree}")
                return 2
            print(f"{name}: trained in {time.perf_counter() - started:.0f} s")
    same = True
    for model in args.models:
        a, b = found["base"][model], found["this checkout"][model]
        equal = a == b
        same &= equal
        print(f"  {model:<8} {'identical' if equal else 'DIFFERENT'}: {_summary(b)}")
        if not equal:
            print(f"           base: {_summary(a)}")
    print("same training: yes" if same else "same training: NO")
    return 0 if same else 1


def _summary(run: dict[str, Any]) -> str:
    curve = ", ".join(f"{loss:.6f}/{valid:.6f}" for loss, valid in run.get("curve", []))
    text = f"best epoch {run['best_epoch']}, valid {run['best_valid']:.6f}"
    text += f", weights {run['weights'][:16]}"
    return text + (f"; loss/valid per epoch {curve}" if curve else "")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


def _train(dataset: str, epochs: int, models: list[str]) -> dict[str, Any]:
    """Runs in the revision's code (``PYTHONPATH``): only the product's own entry points."""
    import torch

    import learners
    from benchmarks.common import graph_export
    from kgstore.connection import open_driver
    from kgstore.graph import Database
    from kgstore.settings import Neo4jSettings, kgrec_home
    from recommender.config import SASRecConfig
    from recommender.experiments.runstore import RunStore
    from recommender.experiments.session_graphs import fit_session_model
    from recommender.pipelines.inputs import (
        PERSONA_RETRIEVER,
        PLAIN,
        fit,
        for_catalogue,
        load_inputs,
    )

    torch.set_num_threads(1)
    home = kgrec_home()
    settings = Neo4jSettings.from_env()
    with open_driver(settings) as driver:
        graph = Database(driver, settings.database).graph(dataset)
        export = graph_export(graph)
        product = for_catalogue((PERSONA_RETRIEVER,), export.has_item_text)[0]
        inputs = load_inputs(graph, home, export, (PLAIN, product))
    config = SASRecConfig(epochs=epochs, patience=epochs)
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for model in models:
            trained: torch.nn.Module
            if model in ("sasrec", "persona"):
                extra = {}
                if "resume" in inspect.signature(fit).parameters:  # the code that keeps state
                    extra["resume"] = Path(folder) / f"{model}.progress.pt"
                if model == "sasrec":
                    trained, result = fit(PLAIN, None, inputs, config, 0, "cpu", False, **extra)
                else:
                    trained, result = fit(product, "output", inputs, config, 0, "cpu", False,
                                          **extra)  # fmt: skip
                found[model] = {
                    "curve": [[e.loss, e.valid] for e in result.curve],
                    "best_epoch": result.best_epoch, "best_valid": result.best_valid,
                }  # fmt: skip
            else:
                store = RunStore(Path(folder) / "store")  # empty: trains, keeping its state
                trained, valid, epoch, _ = fit_session_model(
                    model, inputs.data, config, 0, "cpu", store, False, log=lambda _: None
                )
                found[model] = {"best_epoch": epoch, "best_valid": valid}
            found[model]["weights"] = _digest(trained)
    found["code"] = str(Path(next(iter(learners.__path__))).parent)
    return found


def _digest(model: Any) -> str:
    """The model's weights, in the order of their names."""
    from recommender.util.hashing import array_digest

    state = model.state_dict()
    return array_digest(*(state[name].detach().cpu().float().numpy() for name in sorted(state)))


if __name__ == "__main__":
    sys.exit(main())
