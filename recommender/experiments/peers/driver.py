"""Peers trained through RecBole on kgrec's split and scored by kgrec's evaluator.

RecBole 1.2.1 needs numpy<2 and pandas<3, so it runs in its own environment, created on
first use; it borrows this environment's torch through a ``.pth`` file instead of
downloading a second copy. :mod:`recbole_runner` runs there and returns the ranks of every
validation and test target, which kgrec's evaluator computed from the model's own scores.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from kgstore.splits import in_time_order
from learners.sasrec.data import SequenceData, Stage
from recommender.experiments.peers.knowledge import KnowledgeFiles
from recommender.util.locks import claim

RECBOLE = ["numpy<2", "pandas<3", "setuptools<81", "scipy<1.15"]
RECBOLE_DEPS = [
    "tqdm", "colorlog==4.7.2", "colorama==0.4.4", "scikit-learn<1.6", "pyyaml", "tensorboard",
    "tabulate", "plotly", "texttable", "psutil",
]  # fmt: skip
# Installed without their dependencies: they would pull a second torch.
RECBOLE_NO_DEPS = ["recbole==1.2.1", "thop"]
KGREC_ROOT = Path(__file__).resolve().parents[3]  # the tree holding kgstore/ and recommender/
# What every peer needs to train on the full softmax, as kgrec's SASRec does.
COMMON = {"loss_type": "CE", "train_neg_sample_args": None}
KNOWLEDGE_PEERS = frozenset({"KSR"})  # peers that read the graph's knowledge files
PAUSED = 75  # the runner's exit status after --pause-after (recbole_runner.PAUSED)
RESUME = "resume.pt"  # a run's state between epochs in its work folder (recbole_runner.RESUME)


class PeerError(RuntimeError):
    """RecBole could not be set up, or a peer run failed."""


class PeerPaused(PeerError):
    """A run stopped by ``pause_after``; its state is kept in its work folder to resume."""


@dataclass(frozen=True)
class PeerSpec:
    """One configuration of one RecBole model."""

    model: str  # RecBole's name: SASRec, BERT4Rec, GRU4Rec, SRGNN, KSR
    settings: dict[str, Any] = field(default_factory=dict)  # RecBole config keys

    @property
    def name(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.settings.items()))
        return f"{self.model}({shown})"


@dataclass
class PeerResult:
    spec: PeerSpec
    seed: int
    best_valid: float  # validation NDCG@10 by kgrec's evaluator, at the kept epoch
    best_epoch: int
    seconds_per_epoch: float
    curve: list[list[float]]
    valid_ranks: np.ndarray
    test_ranks: np.ndarray
    # RecBole's own evaluator on its own test split (the native protocol; empty for runs
    # kept from before it was recorded)
    native_test: dict[str, float] = field(default_factory=dict)
    resumed_after: int = 0  # epochs an earlier, stopped call of this run had trained
    # Test ranks of the scenarios' stages (:func:`run_peer`'s ``scored``), by stage.
    scored_ranks: dict[str, np.ndarray] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.spec.model,
            "settings": self.spec.settings,
            "seed": self.seed,
            "best_valid": self.best_valid,
            "best_epoch": self.best_epoch,
            "seconds_per_epoch": self.seconds_per_epoch,
            "curve": self.curve,
            "valid_ranks": self.valid_ranks.tolist(),
            "test_ranks": self.test_ranks.tolist(),
            "native_test": self.native_test,
            "resumed_after": self.resumed_after,
            "scored_ranks": {k: v.tolist() for k, v in self.scored_ranks.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PeerResult:
        return cls(
            PeerSpec(raw["model"], raw["settings"]),
            int(raw["seed"]),
            float(raw["best_valid"]),
            int(raw["best_epoch"]),
            float(raw["seconds_per_epoch"]),
            raw["curve"],
            np.asarray(raw["valid_ranks"], dtype=np.int64),
            np.asarray(raw["test_ranks"], dtype=np.int64),
            {str(k): float(v) for k, v in (raw.get("native_test") or {}).items()},
            int(raw.get("resumed_after", 0)),
            _scored(raw),
        )


def _scored(raw: dict[str, Any]) -> dict[str, np.ndarray]:
    found = raw.get("scored_ranks") or {}
    return {str(k): np.asarray(v, dtype=np.int64) for k, v in found.items()}


def recbole_python(venv: Path) -> Path:
    """The RecBole environment's interpreter, created (once) when missing."""
    venv = venv.resolve()
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    with claim(venv.with_name(f".{venv.name}.lock"), wait=True):  # one creator at a time
        if not (venv / ".complete").exists():
            _create(venv, python)
    return python


def _create(venv: Path, python: Path) -> None:
    print(f"creating the RecBole environment in {venv} (once) ...", file=sys.stderr, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--no-deps", *RECBOLE_NO_DEPS], check=True)
        subprocess.run([*pip, *RECBOLE, *RECBOLE_DEPS], check=True)
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        raise PeerError(f"cannot create RecBole's environment in {venv}: {error}") from error
    # Appended after the environment's own packages, so its numpy<2 and pandas<3 win and
    # only what it lacks (torch and its libraries) comes from here.
    (Path(purelib) / "kgrec_torch.pth").write_text(site.getsitepackages()[0] + "\n")
    (venv / ".complete").touch()


def write_atomic(split: pd.DataFrame, folder: Path, name: str) -> None:
    """The split as RecBole's atomic file. Each interaction's rank in the order the split
    was made in serves as its timestamp, so RecBole's time-ordered leave-one-out reproduces
    the recorded split exactly (ties in the original timestamps included)."""
    (folder / name).mkdir(parents=True, exist_ok=True)
    ordered = in_time_order(split)
    frame = pd.DataFrame(
        {
            "user_id:token": ordered["user"].astype(str),
            "item_id:token": ordered["item"].astype(str),
            "timestamp:float": ordered.groupby("user", sort=False).cumcount().astype(float),
        }
    )
    frame.to_csv(folder / name / f"{name}.inter", sep="\t", index=False)


def check_same_split(split: pd.DataFrame) -> None:
    """RecBole's leave-one-out takes each user's last two interactions in time order: the
    recorded split must be exactly that."""
    tail = in_time_order(split).groupby("user").tail(2)
    expected = tail.groupby("user")["split"].apply(list)
    if not all(v == ["valid", "test"] for v in expected if len(v) == 2):
        raise PeerError("the recorded split is not leave-one-out in time order")


def run_peer(
    python: Path,
    split: pd.DataFrame,
    data: SequenceData,
    spec: PeerSpec,
    seed: int,
    work: Path,
    epochs: int,
    patience: int,
    max_len: int,
    device: str = "cpu",
    knowledge: KnowledgeFiles | None = None,
    pause_after: int | None = None,
    scored: dict[str, list[dict[str, Any]]] | None = None,
) -> PeerResult:
    """Train ``spec`` from ``seed`` on the split (in ``work``) and rank every validation and
    test target of ``data``'s evaluable users with kgrec's evaluator. Knowledge-aware peers
    (:data:`KNOWLEDGE_PEERS`) also read ``knowledge``. The trained model also ranks each
    stage of ``scored`` (users as ``{"history", "session", "target"}``: the model reads the
    session, the history is excluded from the ranking), which does not change the training.

    The run keeps its state in ``work`` after every epoch: called again with the same
    ``work`` and arguments after a stop (a kill, a lost machine, or ``pause_after`` epochs
    of this call, which raises :class:`PeerPaused`), it continues where it stopped and ends
    as an uninterrupted run would."""
    check_same_split(split)
    work = work.resolve()  # the runner runs in it, so a relative path would not be found
    write_atomic(split, work, "kgrec")
    uses_knowledge = spec.model in KNOWLEDGE_PEERS
    if uses_knowledge:
        if knowledge is None:
            raise PeerError(f"{spec.model} needs a knowledge graph; this dataset has none")
        knowledge.write(work, "kgrec")
    users: dict[str, list[dict[str, Any]]] = {}
    for stage in ("valid", "test"):
        typed: Stage = "valid" if stage == "valid" else "test"
        inputs, targets = data.inputs(typed), data.targets(typed)
        users[stage] = [
            {"history": inputs[u].tolist(), "target": int(targets[u])}
            for u in data.evaluable(typed)
        ]
    spec_file = {
        "model": spec.model,
        "settings": {**COMMON, **spec.settings},
        "items": [str(i) for i in data.items],
        "users": users,
        "seed": seed,
        "epochs": epochs,
        "patience": patience,
        "max_len": max_len,
        "device": device,
        "threads": torch.get_num_threads(),
        "knowledge": uses_knowledge,
        "scored": scored or {},
    }
    (work / "inputs.json").write_text(json.dumps(spec_file))
    runner = Path(__file__).with_name("recbole_runner.py")
    pause = ["--pause-after", str(pause_after)] if pause_after is not None else []
    done = subprocess.run(
        [str(python), str(runner), "--work", str(work), "--kgrec", str(KGREC_ROOT), *pause],
        stdout=subprocess.PIPE,  # RecBole's log and the epochs go to stderr, shown as they come
        text=True,
        cwd=work,  # RecBole writes log/ and log_tensorboard/ into the working directory
        env={**os.environ, "PYTHONNOUSERSITE": "1"},
        check=False,
    )
    if done.returncode == PAUSED:
        raise PeerPaused(f"{spec.name} seed {seed} paused; its state is kept in {work}")
    if done.returncode != 0:
        raise PeerError(f"{spec.name} seed {seed} failed (exit {done.returncode}); see above")
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return PeerResult(
        spec,
        seed,
        float(raw["best_valid_ndcg10"]),
        int(raw["best_epoch"]),
        float(raw["seconds_per_epoch"]),
        raw["curve"],
        np.asarray(raw["valid_ranks"], dtype=np.int64),
        np.asarray(raw["test_ranks"], dtype=np.int64),
        {str(k): float(v) for k, v in raw.get("native_test", {}).items()},
        int(raw.get("resumed_after", 0)),
        _scored(raw),
    )
