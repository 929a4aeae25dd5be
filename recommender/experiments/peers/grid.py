"""A peer's grid on the one split: every configuration with seed 0, the best on validation,
then that configuration with every seed. Runs are kept as JSON files named by the split
alone (:func:`peer_key`) and shared between processes by claims."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.experiments.fingerprint import sequence_fingerprint
from recommender.experiments.grids import BUDGET, PEER_GRIDS
from recommender.experiments.peers.driver import (
    KNOWLEDGE_PEERS,
    RESUME,
    PeerResult,
    PeerSpec,
    run_peer,
)
from recommender.experiments.peers.knowledge import KnowledgeFiles
from recommender.experiments.runs import Selection
from recommender.experiments.scenarios import anonymous_stages
from recommender.util.files import write_text_atomic
from recommender.util.hashing import fingerprint
from recommender.util.locks import claim


@dataclass
class PeerRuns:
    selection: Selection
    runs: list[PeerResult] = field(default_factory=list)  # the chosen configuration, per seed

    @property
    def valid(self) -> float:
        return float(np.mean([run.best_valid for run in self.runs]))


def run_peers(
    python: Path,
    split: pd.DataFrame,
    data: SequenceData,
    dataset: str,
    models: tuple[str, ...],
    seeds: tuple[int, ...],
    config: SASRecConfig,
    device: str,
    cache: Path,
    limit: int = BUDGET,
    log: Callable[[str], None] = print,
    knowledge: KnowledgeFiles | None = None,
) -> dict[str, PeerRuns]:
    """Each peer: every configuration of its grid with seed 0, the best on validation, then
    that configuration with every seed. Each finished run is kept in ``cache`` as a JSON file
    named by what it was trained on (:func:`peer_key`) and reused. Every run also ranks the
    anonymous sessions of :func:`~recommender.experiments.scenarios.anonymous_stages`.
    Knowledge-aware peers (KSR) read ``knowledge`` and are left out, with a note, where it
    is None.

    Processes sharing ``cache`` share the work: each run is claimed by a lock file while it
    trains, a process skips runs another holds and comes back for their results once it
    has nothing else to do, so two processes on two cores finish a grid in about half the
    time of one."""
    sequences = sequence_fingerprint(dataset, data)  # once: it hashes all sequences
    scored = anonymous_stages(data)  # ranked by every run: any may turn out the strongest

    def path_of(spec: PeerSpec, seed: int) -> Path:
        digest = None if knowledge is None else knowledge.digest
        return cache / f"{peer_key(spec, seed, config, device, sequences, digest)}.json"

    def run(spec: PeerSpec, seed: int, wait: bool) -> PeerResult | None:
        path = path_of(spec, seed)
        if path.exists():
            return PeerResult.from_json(json.loads(path.read_text()))
        with claim(path.with_suffix(".lock"), wait) as held:
            if not held:
                log(f"{spec.name} seed {seed}: trained by another process; coming back to it")
                return None
            if path.exists():  # finished by another process while this one waited
                return PeerResult.from_json(json.loads(path.read_text()))
            # A stable work folder: a run stopped part-way continues from its last epoch.
            work = path.with_suffix(".work")
            carried = " from its kept state" if (work / RESUME).exists() else ""
            log(f"{spec.name} seed {seed}: training{carried} ({work})")
            result = run_peer(
                python, split, data, spec, seed, work, config.epochs, config.patience,
                config.max_len, device, knowledge, scored=scored,
            )  # fmt: skip
            write_text_atomic(path, json.dumps(result.to_json()))
            shutil.rmtree(work, ignore_errors=True)
            return result

    def run_all(jobs: list[tuple[PeerSpec, int]]) -> list[PeerResult]:
        first = [run(spec, seed, wait=False) for spec, seed in jobs]
        return [
            done if done is not None else _waited(run(spec, seed, wait=True))
            for done, (spec, seed) in zip(first, jobs, strict=True)
        ]

    found: dict[str, PeerRuns] = {}
    for model in models:
        if model not in PEER_GRIDS:
            raise ValueError(f"no grid for peer {model!r}; known: {', '.join(PEER_GRIDS)}")
        if model in KNOWLEDGE_PEERS and knowledge is None:
            log(f"{model} left out: this dataset's graph has no knowledge beside the interactions")
            continue
        tried = run_all([(PeerSpec(model, settings), 0) for settings in PEER_GRIDS[model][:limit]])
        for result in tried:
            log(f"{result.spec.name}: valid NDCG@10 {result.best_valid:.4f}")
        best = max(tried, key=lambda r: r.best_valid)
        selection = Selection(model, [(r.spec.name, r.best_valid) for r in tried], best.spec.name)
        later = run_all([(best.spec, seed) for seed in seeds if seed != 0])
        found[model] = PeerRuns(selection, [best, *later] if 0 in seeds else later)
    return found


def peer_key(
    spec: PeerSpec,
    seed: int,
    config: SASRecConfig,
    device: str,
    sequences: str,
    knowledge: str | None = None,
) -> str:
    """The name of one peer run: its model and settings, seed, training limits, device
    kind and the sequences it learns from (:func:`sequence_fingerprint`); a knowledge-aware
    peer's also the digest of the knowledge files it reads."""
    key: dict[str, object] = {
        "spec": [spec.model, spec.settings],
        "seed": seed,
        "epochs": config.epochs,
        "patience": config.patience,
        "max_len": config.max_len,
        "device": device.split(":")[0],
        "sequences": sequences,
    }
    if spec.model in KNOWLEDGE_PEERS and knowledge is not None:
        key["knowledge"] = knowledge
    return fingerprint(key)


def _waited(result: PeerResult | None) -> PeerResult:
    if result is None:  # a blocking claim is always held
        raise RuntimeError("a peer run was neither kept nor trained")
    return result
