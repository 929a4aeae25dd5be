"""kgrec's SASRec against RecBole's SASRec on the identical leave-one-out split, in the same
run: test quality (full ranking, history excluded in both) and seconds per training epoch.

Usage:
    python -m benchmarks.sasrec_vs_recbole [--dataset ml-100k] [--seeds 0 1 2]
        [--recbole-minutes M] [--out docs/results]

The dataset must be ingested (its split is read from KGREC_HOME/splits). RecBole 1.2.1
needs numpy<2 and pandas<3, so it runs in its own environment, created on first use under
KGREC_HOME/bench/recbole-venv; it borrows this environment's torch through a .pth file
instead of downloading a second copy. Both models: d=64, 2 layers, 2 heads, feed-forward
64, dropout 0.1, Adam 1e-3, max length 50, full-softmax cross-entropy, early stopping on
validation NDCG@10. They differ in what an epoch is: RecBole trains on every prefix of
every sequence (one target each), kgrec on windows of up to 50 targets, so the time to the
best validation score is printed too, and with ``--out`` both validation curves are drawn
against training seconds. ``--recbole-minutes`` caps RecBole's training time per seed (it
then tests its best checkpoint so far, and the table says it was cut short). With
``--out`` the JSON is rewritten after every seed, and seeds it already holds for the same
settings are reused: a long CPU run can be stopped and resumed, or extended by seeds.
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
import torch

from benchmarks.common import sequence_inputs
from kgstore.settings import kgrec_home
from kgstore.splits import in_time_order, load_split
from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.evaluation.metrics import summarise
from recommender.evaluation.ranking import full_ranks
from recommender.experiments.peers.driver import check_same_split, recbole_python, write_atomic
from recommender.pipelines.inputs import PLAIN, fit
from recommender.util.machine import accelerator, machine


def run_kgrec(split: pd.DataFrame, seed: int, epochs: int, patience: int, device: str) -> dict:  # type: ignore[type-arg]
    config = SASRecConfig(epochs=epochs, patience=patience)
    data = SequenceData.from_split(in_time_order(split))
    # Plain SASRec (kgrec's reranker) reads no item or user vectors.
    inputs = sequence_inputs(data)
    model, result = fit(PLAIN, None, inputs, config, seed, device, progress=False)
    best_epoch_seconds = sum(e.seconds for e in result.curve[: result.best_epoch + 1])
    return {
        "best_valid_ndcg10": result.best_valid,
        "best_epoch": result.best_epoch,
        "epochs": len(result.curve),
        "seconds_per_epoch": result.seconds_per_epoch,
        "seconds_to_best": best_epoch_seconds,
        "train_seconds": sum(e.seconds for e in result.curve),
        "stopped": "early stopping" if len(result.curve) < epochs else "epoch limit",
        "curve": [
            [e.epoch, sum(c.seconds for c in result.curve[: i + 1]), e.valid]
            for i, e in enumerate(result.curve)
        ],
        "test": summarise(full_ranks(model, data, "test"), ks=(10,)),
    }


def run_recbole(
    python: Path,
    split: pd.DataFrame,
    seed: int,
    epochs: int,
    patience: int,
    device: str,
    minutes: float | None,
) -> dict:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        write_atomic(split, Path(tmp), "kgrec")
        out = subprocess.run(
            [
                str(python),
                str(Path(__file__).with_name("recbole_runner.py")),
                "--data",
                tmp,
                "--dataset",
                "kgrec",
                "--epochs",
                str(epochs),
                "--patience",
                str(patience),
                "--seed",
                str(seed),
                "--device",
                device,
                "--checkpoints",
                str(Path(tmp) / "saved"),
                *(["--minutes", str(minutes)] if minutes is not None else []),
            ],
            check=True,
            stdout=subprocess.PIPE,  # RecBole's log and the epochs go to stderr, shown as they come
            text=True,
            cwd=tmp,  # RecBole writes log/ and log_tensorboard/ into the working directory
            env={**os.environ, "BENCH_THREADS": str(torch.get_num_threads())},
        )
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    per_epoch = result["seconds_per_epoch"]
    result["seconds_to_best"] = per_epoch * (result["best_epoch"] + 1)
    result["test"] = {k.replace("hit", "HR").replace("ndcg", "NDCG").replace("mrr", "MRR"): v
                      for k, v in result["test"].items()}  # fmt: skip
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--venv", type=Path, default=kgrec_home() / "bench" / "recbole-venv")
    parser.add_argument(
        "--recbole-minutes", type=float, default=None, help="RecBole's training budget per seed"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the results (JSON) and curves (PNG)"
    )
    args = parser.parse_args()

    split = load_split(kgrec_home(), args.dataset)
    check_same_split(split)
    python = recbole_python(args.venv)
    print(f"machine: {machine()}; accelerator: {accelerator()}; torch {torch.__version__}; "
          f"{torch.get_num_threads()} threads; device {args.device}")  # fmt: skip
    settings: dict[str, object] = {
        "epochs": args.epochs,
        "patience": args.patience,
        "recbole_minutes": args.recbole_minutes,
        "device": args.device,
    }
    saved = None if args.out is None else args.out / f"sasrec-vs-recbole-{args.dataset}.json"
    kept = {} if saved is None else kept_seeds(saved, settings)
    rows: dict[str, list[dict]] = {"kgrec": [], "RecBole": []}  # type: ignore[type-arg]
    done: list[int] = []
    for seed in args.seeds:
        for name in rows:
            started = time.perf_counter()
            if seed in kept:
                result, how = kept[seed][name], "kept from an earlier run"
            else:
                if name == "kgrec":
                    result = run_kgrec(split, seed, args.epochs, args.patience, args.device)
                else:
                    result = run_recbole(
                        python,
                        split,
                        seed,
                        args.epochs,
                        args.patience,
                        args.device,
                        args.recbole_minutes,
                    )
                result["machine"] = f"{machine()}; {torch.get_num_threads()} torch threads"
                how = f"{time.perf_counter() - started:.0f} s"
            rows[name].append(result)
            brief = {k: v for k, v in result.items() if k != "curve"}
            print(f"seed {seed} {name}: {json.dumps(brief)} ({how})", flush=True)
        done.append(seed)
        if saved is not None:  # after every seed, so a stopped run loses at most one
            saved.parent.mkdir(parents=True, exist_ok=True)
            report = {"dataset": args.dataset, "settings": settings, "seeds": done, "runs": rows}
            saved.write_text(json.dumps(report, indent=1))
    print(f"\n{args.dataset}, seeds {args.seeds}, mean ± std")
    print(
        "| SASRec | test NDCG@10 | test HR@10 | s/epoch | epochs to best | s to best | stopped by |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, results in rows.items():

        def cell(values: list[float], digits: int = 4) -> str:
            return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"

        print(
            f"| {name} | {cell([r['test']['NDCG@10'] for r in results])} | "
            f"{cell([r['test']['HR@10'] for r in results])} | "
            f"{cell([r['seconds_per_epoch'] for r in results], 2)} | "
            f"{cell([r['best_epoch'] + 1 for r in results], 1)} | "
            f"{cell([r['seconds_to_best'] for r in results], 1)} | "
            f"{', '.join(sorted({r['stopped'] for r in results}))} |"
        )
    ratio = np.mean([r["seconds_per_epoch"] for r in rows["RecBole"]]) / np.mean(
        [r["seconds_per_epoch"] for r in rows["kgrec"]]
    )
    print(f"\nkgrec is {ratio:.1f}x faster per epoch than RecBole in this run")
    if saved is not None:
        plot_curves(rows, args.dataset, saved.with_suffix(".png"))
        print(f"written: {saved}, {saved.with_suffix('.png')}")
    return 0


def kept_seeds(path: Path, settings: dict[str, object]) -> dict[int, dict[str, dict]]:  # type: ignore[type-arg]
    """Per seed, both models' results already in ``path`` from a run with ``settings``
    (nothing when the file is missing or its settings differ)."""
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text())
    if saved.get("settings") != settings:
        print(f"{path}: other settings ({saved.get('settings')}); its seeds are not reused")
        return {}
    kept: dict[int, dict[str, dict]] = {}  # type: ignore[type-arg]
    for i, seed in enumerate(saved["seeds"]):
        runs = {name: results[i] for name, results in saved["runs"].items() if i < len(results)}
        if set(runs) == {"kgrec", "RecBole"}:
            kept[int(seed)] = runs
    return kept


def plot_curves(rows: dict[str, list[dict]], dataset: str, path: Path) -> None:  # type: ignore[type-arg]
    """Validation NDCG@10 against training seconds, one line per model and seed: the
    comparison at equal time, which per-epoch figures cannot give."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for (name, results), colour in zip(rows.items(), ("tab:blue", "tab:orange"), strict=False):
        for i, result in enumerate(results):
            seconds = [point[1] for point in result["curve"]]
            valid = [point[2] for point in result["curve"]]
            ax.plot(seconds, valid, color=colour, marker=".", label=name if i == 0 else None)
    ax.set_xscale("log")
    ax.set_xlabel("training seconds (log scale)")
    ax.set_ylabel("validation NDCG@10")
    ax.set_title(f"SASRec on {dataset}: kgrec and RecBole 1.2.1, same split")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
