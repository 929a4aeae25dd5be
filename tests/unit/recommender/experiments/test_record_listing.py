"""``kgrec experiment records`` in words: finished and unfinished peer runs, recorded seeds
and rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from recommender.experiments.peers.driver import COMMON, PeerResult, PeerSpec
from recommender.experiments.record_listing import describe, summary
from recommender.experiments.runs import Row, RunResult
from recommender.experiments.seedrecords import RowRecords, SeedRecord, SeedRecords


def run(key: str, seed: int) -> RunResult:
    return RunResult(Row(key, key), seed, None, {}, {"NDCG@10": 0.1}, None, np.zeros(3, np.int64))


def test_every_part_of_a_records_folder_is_described(tmp_path: Path) -> None:
    assert describe(tmp_path / "none") == [f"no records in {tmp_path / 'none'}"]
    peers = tmp_path / "peers"
    peers.mkdir()
    spec = PeerSpec("SASRec", {"train_batch_size": 256})
    ranks = np.arange(3)
    # Epochs of 10 s, one of them 500 s (the run was paused): the median ignores it.
    so_far = np.cumsum([10.0] * 4 + [500.0] + [10.0] * 4)
    curve = [[i, float(t), 0.1] for i, t in enumerate(so_far)]
    done = PeerResult(spec, 0, 0.125, 4, 60.0, curve, ranks, ranks)
    (peers / "a.json").write_text(json.dumps(done.to_json()))
    work = peers / "b.work"
    work.mkdir()
    inputs = {"model": "GRU4Rec", "settings": {**COMMON, "dropout_prob": 0.3}, "seed": 1}
    (work / "inputs.json").write_text(json.dumps(inputs))
    torch.save({"curve": [[0, 5.0, 0.05], [1, 10.0, 0.07], [2, 15.0, 0.06]]}, work / "resume.pt")
    (peers / "c.work").mkdir()  # a run that never wrote its inputs: not listed
    # The unseen-user scenario's runs: trained without its held-out users.
    unseen = {"unseen-1": ranks, "unseen-all": ranks}
    apart = PeerResult(spec, 1, 0.11, 2, 60.0, curve[:5], ranks, ranks, scored_ranks=unseen)
    (peers / "d.json").write_text(json.dumps(apart.to_json()))
    working = peers / "e.work"
    working.mkdir()
    (working / "inputs.json").write_text(json.dumps({**inputs, "scored": {"unseen-2": []}}))
    SeedRecords(tmp_path / "seeds" / "k1").save(SeedRecord(0, [run("plain", 0)], {}, {}, "m1"))
    SeedRecords(tmp_path / "seeds" / "k1").save(SeedRecord(2, [run("plain", 2)], {}, {}, "m2"))
    rows = RowRecords(tmp_path / "rows" / "k2")
    for key, seed in (("srgnn", 1), ("srgnn", 0), ("gcegnn", 0)):
        rows.save(run(key, seed))
    (tmp_path / "selection").mkdir()
    (tmp_path / "selection" / "g.json").write_text('{"valid": [0.1]}')
    (tmp_path / "selection" / "g.key.json").write_text('{"budget": 2}')  # says, is no record

    lines = describe(tmp_path)
    assert lines == [
        f"records in {tmp_path}",
        "peer runs: 2 finished, 2 in progress or stopped",
        "  SASRec(train_batch_size=256) seed 0: finished, valid NDCG@10 0.1250 at epoch 4 "
        "of 9, median 10 s/epoch (longest 500 s)",
        "  SASRec(train_batch_size=256) seed 1 without the held-out users: finished, valid "
        "NDCG@10 0.1100 at epoch 2 of 5, median 10 s/epoch (longest 500 s)",
        "  GRU4Rec(dropout_prob=0.3) seed 1: in progress or stopped, 3 epochs done, best valid "
        "NDCG@10 0.0700 at epoch 1, median 5 s/epoch (longest 5 s) (b.work)",
        "  GRU4Rec(dropout_prob=0.3) seed 1 without the held-out users: in progress or "
        "stopped, no epoch finished (e.work)",
        "standard rows [k1]: seeds 0, 2 (made on m1; m2)",
        "companion rows [k2]: gcegnn seeds 0; srgnn seeds 0, 1",
        "kgrec's configuration choice: 1 recorded",
    ]
    assert summary(tmp_path) == (
        "standard rows: 2 seeds; companion rows: 3 rows and seeds; peer runs: 2 finished, 2 in "
        "progress or stopped"
    )
    assert summary(tmp_path / "none") is None
    (tmp_path / "empty" / "seeds" / "k").mkdir(parents=True)
    assert summary(tmp_path / "empty") is None


def test_a_run_carried_as_its_state_alone_is_listed_as_unfinished(tmp_path: Path) -> None:
    """A peer run carried to another machine without its inputs (they hold the users'
    histories) is still an unfinished run, named by its folder until it resumes."""
    work = tmp_path / "peers" / "k.work"
    (work / "saved").mkdir(parents=True)
    torch.save({"curve": [[0, 5.0, 0.05], [1, 10.0, 0.08]]}, work / "resume.pt")
    assert describe(tmp_path)[1:] == [
        "peer runs: 0 finished, 1 in progress or stopped",
        "  a run carried as its state alone: in progress or stopped, 2 epochs done, best valid "
        "NDCG@10 0.0800 at epoch 1, median 5 s/epoch (longest 5 s) (k.work)",
    ]
    assert summary(tmp_path) == "peer runs: 0 finished, 1 in progress or stopped"
