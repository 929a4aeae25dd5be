"""Peer runs: named by the split they learn from (not by kgrec's inputs), kept and reused,
shared out between processes by claims, and started with an absolute work folder."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.experiments.fingerprint import sequence_fingerprint
from recommender.experiments.grids import PEER_GRIDS
from recommender.experiments.peers import driver
from recommender.experiments.peers import grid as peer_grid
from recommender.experiments.peers.driver import PeerResult, PeerSpec
from recommender.util.locks import claim

CONFIG = SASRecConfig(epochs=3, patience=2)


def split() -> pd.DataFrame:
    rows = []
    for user in range(4):
        items = [f"i{(user + k) % 6}" for k in range(5)]
        for position, item in enumerate(items):
            stage = "train" if position < 3 else ("valid" if position == 3 else "test")
            rows.append((f"u{user}", item, position, stage))
    return pd.DataFrame(rows, columns=["user", "item", "position", "split"])


def data() -> SequenceData:
    return SequenceData.from_split(split(), catalogue=[f"i{k}" for k in range(7)])


def result(spec: PeerSpec, seed: int, valid: float) -> PeerResult:
    ranks = np.arange(4, dtype=np.int64)
    return PeerResult(spec, seed, valid, 1, 0.1, [[0, 1.0, valid]], ranks, ranks)


def test_the_sequence_fingerprint_names_the_split_and_nothing_else() -> None:
    base = sequence_fingerprint("d", data())
    assert base == sequence_fingerprint("d", data())
    assert base != sequence_fingerprint("other", data())
    changed = split()
    changed.loc[changed.index[-1], "item"] = "i6"  # another test target
    assert base != sequence_fingerprint(
        "d", SequenceData.from_split(changed, [f"i{k}" for k in range(7)])
    )
    spec = PeerSpec("SASRec", {"train_batch_size": 256})
    key = peer_grid.peer_key(spec, 0, CONFIG, "cuda:1", base)
    assert key == peer_grid.peer_key(spec, 0, CONFIG, "cuda", base)
    assert key != peer_grid.peer_key(spec, 1, CONFIG, "cuda", base)
    assert key != peer_grid.peer_key(
        spec, 0, CONFIG.model_copy(update={"patience": 5}), "cuda", base
    )
    ksr = PeerSpec("KSR", {})
    assert peer_grid.peer_key(ksr, 0, CONFIG, "cpu", base, "k1") != peer_grid.peer_key(
        ksr, 0, CONFIG, "cpu", base, "k2"
    )


def test_runs_are_kept_reused_and_shared_with_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = PEER_GRIDS["GRU4Rec"][:2]
    valid = {0: 0.2, 1: 0.3}  # the second configuration wins on validation
    trained: list[tuple[dict[str, Any], int]] = []

    def fake_run(
        _python: Path, _split: Any, _data: Any, spec: PeerSpec, seed: int, *_: Any, **__: Any
    ) -> PeerResult:
        trained.append((spec.settings, seed))
        return result(spec, seed, valid[grid.index(spec.settings)] + seed / 100)

    monkeypatch.setattr(peer_grid, "run_peer", fake_run)
    cache = tmp_path / "peers"
    sequences = sequence_fingerprint("d", data())
    first = PeerSpec("GRU4Rec", grid[0])
    first_path = cache / f"{peer_grid.peer_key(first, 0, CONFIG, 'cpu', sequences)}.json"
    held, logs = threading.Event(), list[str]()

    def other_process() -> None:  # holds the first configuration, then leaves its result
        with claim(first_path.with_suffix(".lock"), wait=False) as mine:
            assert mine
            held.set()
            time.sleep(0.5)
            first_path.write_text(json.dumps(result(first, 0, valid[0]).to_json()))

    thread = threading.Thread(target=other_process)
    thread.start()
    held.wait(5)
    found = peer_grid.run_peers(
        Path("python"), split(), data(), "d", ("GRU4Rec",), (0, 1, 2), CONFIG, "cpu", cache,
        limit=2, log=logs.append,
    )  # fmt: skip
    thread.join()
    assert trained == [(grid[1], 0), (grid[1], 1), (grid[1], 2)]  # never the other's run
    assert any("trained by another process" in line for line in logs)
    assert sum(": training (" in line for line in logs) == 3  # what this process trains
    runs = found["GRU4Rec"]
    assert runs.selection.chosen == PeerSpec("GRU4Rec", grid[1]).name
    assert [run.seed for run in runs.runs] == [0, 1, 2]
    assert [name for name, _ in runs.selection.tried] == [PeerSpec("GRU4Rec", s).name for s in grid]
    # A second call finds every run kept and trains nothing.
    trained.clear()
    again = peer_grid.run_peers(
        Path("python"), split(), data(), "d", ("GRU4Rec",), (0, 1, 2), CONFIG, "cpu", cache,
        limit=2, log=logs.append,
    )  # fmt: skip
    assert trained == []
    assert [r.best_valid for r in again["GRU4Rec"].runs] == [r.best_valid for r in runs.runs]


def test_the_runner_starts_in_an_absolute_work_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_subprocess(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        work = Path(command[command.index("--work") + 1])
        seen.update(work=work, cwd=Path(kwargs["cwd"]))
        assert (work / "inputs.json").exists()  # found from where the runner runs
        ranks = [0, 1, 2, 3]
        out = {"best_valid_ndcg10": 0.1, "best_epoch": 0, "seconds_per_epoch": 1.0,
               "curve": [], "valid_ranks": ranks, "test_ranks": ranks}  # fmt: skip
        return subprocess.CompletedProcess(command, 0, json.dumps(out) + "\n", "")

    monkeypatch.setattr(subprocess, "run", fake_subprocess)
    monkeypatch.chdir(tmp_path)
    done = driver.run_peer(
        Path("python"), split(), data(), PeerSpec("GRU4Rec", {}), 0, Path("peers/x.work"),
        3, 2, 50,
    )  # fmt: skip
    assert seen["work"].is_absolute() and seen["work"] == seen["cwd"]
    assert done.test_ranks.tolist() == [0, 1, 2, 3]


def test_a_peer_reads_only_the_items_its_training_data_has() -> None:
    """The unseen-user scenario's held-out users bring items the peer never saw; it reads
    their sessions without them (each kept item mapped to RecBole's id), the most recent
    max_len of what is left."""
    from recommender.experiments.peers.recbole_runner import known_recent

    column = np.array([7, -1, 3, 5, -1])  # kgrec items 1..5 in RecBole's ids; 2 and 5 unknown
    assert known_recent([1, 2, 3, 4, 5], column, 10).tolist() == [7, 3, 5]
    assert known_recent([1, 2, 3, 4, 5], column, 2).tolist() == [3, 5]  # recent known ones
    assert known_recent([3, 4], column, 1).tolist() == [5]
    assert known_recent([2, 5], column, 3).tolist() == []
