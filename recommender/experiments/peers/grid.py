"""A peer's grid on the one split: every configuration with seed 0, the best on validation,
then that configuration with every seed; the strongest peer again on the split without the
unseen users. Runs are kept as JSON files named by the split alone (:func:`peer_key`) and
shared between processes by claims."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from recommender.experiments.unseen import held_out_users, training_data, unseen_stages
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


@dataclass
class PeerJobs:
    """Peer runs on one split: each finished run is kept in ``cache`` as a JSON file named
    by what it was trained on (:func:`peer_key`) and reused; every run also ranks the
    ``scored`` stages (:func:`~recommender.experiments.peers.driver.run_peer`).

    Processes sharing ``cache`` share the work: each run is claimed by a lock file while it
    trains, a process skips runs another holds and comes back for their results once it
    has nothing else to do, so two processes on two cores finish a grid in about half the
    time of one."""

    python: Path
    split: pd.DataFrame
    data: SequenceData
    dataset: str
    config: SASRecConfig
    device: str
    cache: Path
    scored: dict[str, list[dict[str, Any]]]
    knowledge: KnowledgeFiles | None = None
    log: Callable[[str], None] = print
    sequences: str = field(init=False)  # the split's fingerprint, part of every run's key

    def __post_init__(self) -> None:
        self.sequences = sequence_fingerprint(self.dataset, self.data)  # hashes every sequence

    def run_all(self, jobs: list[tuple[PeerSpec, int]]) -> list[PeerResult]:
        """The result of each (configuration, seed): kept, or trained by this process, or
        waited for from another."""
        first = [self._run(spec, seed, wait=False) for spec, seed in jobs]
        return [
            done if done is not None else _waited(self._run(spec, seed, wait=True))
            for done, (spec, seed) in zip(first, jobs, strict=True)
        ]

    def _path(self, spec: PeerSpec, seed: int) -> Path:
        digest = None if self.knowledge is None else self.knowledge.digest
        key = peer_key(spec, seed, self.config, self.device, self.sequences, digest)
        return self.cache / f"{key}.json"

    def _run(self, spec: PeerSpec, seed: int, wait: bool) -> PeerResult | None:
        path = self._path(spec, seed)
        if path.exists():
            return PeerResult.from_json(json.loads(path.read_text()))
        with claim(path.with_suffix(".lock"), wait) as held:
            if not held:
                self.log(f"{spec.name} seed {seed}: trained by another process; coming back to it")
                return None
            if path.exists():  # finished by another process while this one waited
                return PeerResult.from_json(json.loads(path.read_text()))
            # A stable work folder: a run stopped part-way continues from its last epoch.
            work = path.with_suffix(".work")
            carried = " from its kept state" if (work / RESUME).exists() else ""
            self.log(f"{spec.name} seed {seed}: training{carried} ({work})")
            config = self.config
            result = run_peer(
                self.python, self.split, self.data, spec, seed, work, config.epochs,
                config.patience, config.max_len, self.device, self.knowledge, scored=self.scored,
            )  # fmt: skip
            write_text_atomic(path, json.dumps(result.to_json()))
            shutil.rmtree(work, ignore_errors=True)
            return result


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
    that configuration with every seed, as :class:`PeerJobs` on the split (shared between
    processes, kept in ``cache``). Every run also ranks the anonymous sessions of
    :func:`~recommender.experiments.scenarios.anonymous_stages`. Knowledge-aware peers (KSR)
    read ``knowledge`` and are left out, with a note, where it is None."""
    # Every run ranks the anonymous sessions: any configuration may turn out the strongest.
    jobs = PeerJobs(
        python, split, data, dataset, config, device, cache, anonymous_stages(data), knowledge,
        log,
    )  # fmt: skip
    found: dict[str, PeerRuns] = {}
    for model in models:
        if model not in PEER_GRIDS:
            raise ValueError(f"no grid for peer {model!r}; known: {', '.join(PEER_GRIDS)}")
        if model in KNOWLEDGE_PEERS and knowledge is None:
            log(f"{model} left out: this dataset's graph has no knowledge beside the interactions")
            continue
        grid = [(PeerSpec(model, settings), 0) for settings in PEER_GRIDS[model][:limit]]
        tried = jobs.run_all(grid)
        for result in tried:
            log(f"{result.spec.name}: valid NDCG@10 {result.best_valid:.4f}")
        best = max(tried, key=lambda r: r.best_valid)
        selection = Selection(model, [(r.spec.name, r.best_valid) for r in tried], best.spec.name)
        later = jobs.run_all([(best.spec, seed) for seed in seeds if seed != 0])
        found[model] = PeerRuns(selection, [best, *later] if 0 in seeds else later)
    return found


def strongest(peers: dict[str, PeerRuns]) -> str | None:
    """The peer with the best mean validation NDCG@10 over its chosen runs (None: none)."""
    return max(peers, key=lambda model: peers[model].valid) if peers else None


def run_unseen_peer(
    python: Path,
    split: pd.DataFrame,
    data: SequenceData,
    dataset: str,
    runs: PeerRuns,
    seeds: tuple[int, ...],
    config: SASRecConfig,
    device: str,
    cache: Path,
    log: Callable[[str], None] = print,
    knowledge: KnowledgeFiles | None = None,
) -> list[PeerResult]:
    """The unseen-user scenario for one peer (the strongest): its chosen configuration
    trained with every seed on the split without the held-out users
    (:func:`~recommender.experiments.unseen.held_out_users`), each run ranking the held-out
    users' test targets from their arriving histories
    (:func:`~recommender.experiments.unseen.unseen_stages`)."""
    held = held_out_users(data)
    gone = set(np.asarray(data.users[held]).astype(str))
    reduced_split = split[~split["user"].astype(str).isin(gone)]
    jobs = PeerJobs(
        python, reduced_split, training_data(data, held), dataset, config, device, cache,
        unseen_stages(data, held), knowledge, log,
    )  # fmt: skip
    spec = runs.runs[0].spec  # the chosen configuration
    log(f"{spec.name}: unseen users, {len(held):,} held out of its training")
    return jobs.run_all([(spec, seed) for seed in seeds])


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
