"""The strongest tuned peer in the anonymous-session scenario: each peer run ranks the test
users from their last items only (their whole history still excluded), and the comparison
gains the strongest peer's row and sweep from those ranks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.experiments.compare import add_peers, add_unseen_peer, peer_row
from recommender.experiments.comparison import RetrieverComparison
from recommender.experiments.peers import grid as peer_grid
from recommender.experiments.peers.driver import PeerResult, PeerSpec
from recommender.experiments.peers.grid import PeerRuns
from recommender.experiments.runs import Row, RunResult, Selection
from recommender.experiments.scenarios import (
    ANONYMOUS_PREFIX,
    PEER_KEY,
    UNSEEN_PREFIX,
    anonymous_stage,
    anonymous_stages,
)
from recommender.experiments.unseen import held_out_users, unseen_stage, unseen_stages


def _split() -> pd.DataFrame:
    """Three users with 3, 4 and 6 training items, then a validation and a test item."""
    rows = []
    for user, length in enumerate((5, 6, 8)):
        for position in range(length):
            stage = "test" if position == length - 1 else "train"
            stage = "valid" if position == length - 2 else stage
            rows.append((f"u{user}", f"i{(user * 3 + position) % 9}", position, stage))
    return pd.DataFrame(rows, columns=["user", "item", "position", "split"])


def data() -> SequenceData:
    return SequenceData.from_split(_split(), catalogue=[f"i{k}" for k in range(9)])


def test_anonymous_stages_are_the_last_items_with_the_whole_history_excluded() -> None:
    found = data()
    stages = anonymous_stages(found)
    assert list(stages) == ["anonymous-1", "anonymous-2", "anonymous-3", "anonymous-5",
                            "anonymous-10"]  # fmt: skip
    users = found.evaluable("test")
    for length in (1, 2, 3, 5, 10):
        entries = stages[anonymous_stage(length)]
        assert len(entries) == len(users)
        for entry, user in zip(entries, users, strict=True):
            history = found.inputs("test")[user].tolist()  # training items and the valid one
            assert entry["history"] == history
            assert entry["session"] == history[-length:]
            assert entry["target"] == int(found.targets("test")[user])
    # Hand-checked on the second user: 4 training items and the validation item.
    second = stages["anonymous-2"][1]
    assert len(second["history"]) == 5 and second["session"] == second["history"][3:]


def _result(model: str, seed: int, valid: float, scored: dict[str, list[int]]) -> PeerResult:
    ranks = np.array([0, 1, 20, 5])
    return PeerResult(
        PeerSpec(model), seed, valid, 1, 0.1, [[0, 1.0, valid]], ranks, ranks, {}, 0,
        {stage: np.array(found) for stage, found in scored.items()},
    )  # fmt: skip


def _comparison(anonymous: bool) -> RetrieverComparison:
    users = np.arange(4)
    runs = [RunResult(Row("plain", "Plain"), 0, None, {}, {}, None, np.zeros(4, np.int64))]
    if anonymous:
        row = Row(ANONYMOUS_PREFIX + "plain", "Anonymous session: plain SASRec")
        runs.append(RunResult(row, 0, None, {}, {}, None, np.zeros(4, np.int64)))
    return RetrieverComparison(
        "d", (0,), 9, users, runs, {}, SASRecConfig(), "cpu", 1.0,
        {ANONYMOUS_PREFIX: {"plain": {"5": [0.5]}}} if anonymous else {},
        np.zeros(4, bool), np.zeros(4, bool),
    )  # fmt: skip


SCORED = {anonymous_stage(n): [3, 0, 50, 1] for n in (1, 2, 3, 10)} | {
    anonymous_stage(5): [0, 1, 20, 5]
}


def test_the_strongest_peer_joins_the_anonymous_scenario() -> None:
    comparison = _comparison(anonymous=True)
    peers = {
        "GRU4Rec": PeerRuns(Selection("GRU4Rec", [], "g"), [_result("GRU4Rec", 0, 0.2, SCORED)]),
        "SASRec": PeerRuns(Selection("SASRec", [], "s"), [_result("SASRec", 0, 0.3, SCORED)]),
    }
    assert add_peers(comparison, peers) == peer_row("SASRec")
    rows = comparison.scenario_rows(ANONYMOUS_PREFIX)
    assert [row.key for row in rows] == ["anonymous-plain", "anonymous-peer"]
    assert "RecBole SASRec" in rows[1].label
    (run,) = comparison.by_row(rows[1])
    np.testing.assert_array_equal(run.ranks, [0, 1, 20, 5])
    # NDCG@10 by hand: ranks 0, 1, 20, 5 give 1, 1/log2(3), 0, 1/log2(7).
    expected = (1 + 1 / np.log2(3) + 0 + 1 / np.log2(7)) / 4
    assert run.test["NDCG@10"] == pytest.approx(expected)
    sweep = comparison.sweep[ANONYMOUS_PREFIX][PEER_KEY]
    assert list(sweep) == ["1", "2", "3", "5", "10", "all"]
    assert sweep["5"] == [pytest.approx(expected)]
    assert sweep["all"] == [pytest.approx(expected)]  # the standard test ranks (the same here)
    # ranks 3, 0, 50, 1: 1/log2(5), 1, 0, 1/log2(3)
    assert sweep["1"] == [pytest.approx((1 / np.log2(5) + 1 + 1 / np.log2(3)) / 4)]


def test_no_anonymous_peer_row_without_the_scenario_or_the_ranks() -> None:
    without_scenario = _comparison(anonymous=False)
    peers = {"SASRec": PeerRuns(Selection("SASRec", [], "s"), [_result("SASRec", 0, 0.3, SCORED)])}
    quiet: list[str] = []
    add_peers(without_scenario, peers, log=quiet.append)
    assert without_scenario.scenario_rows(ANONYMOUS_PREFIX) == [] and quiet == []
    # A run recorded before peers ranked anonymous sessions: the scenario goes without it.
    old = _comparison(anonymous=True)
    kept = {"SASRec": PeerRuns(Selection("SASRec", [], "s"), [_result("SASRec", 0, 0.3, {})])}
    said: list[str] = []
    assert add_peers(old, kept, log=said.append) == peer_row("SASRec")
    assert [row.key for row in old.scenario_rows(ANONYMOUS_PREFIX)] == ["anonymous-plain"]
    (why,) = said  # the report lacks the row, and the user is told why and what to do
    assert "no SASRec row" in why and "recorded before" in why and "remove" in why
    assert PEER_KEY not in old.sweep[ANONYMOUS_PREFIX]


def test_scored_ranks_survive_the_record() -> None:
    result = _result("SASRec", 1, 0.3, SCORED)
    again = PeerResult.from_json(result.to_json())
    assert set(again.scored_ranks) == set(SCORED)
    np.testing.assert_array_equal(again.scored_ranks[anonymous_stage(5)], [0, 1, 20, 5])
    old = result.to_json()
    del old["scored_ranks"]  # a record written before scenarios were ranked
    assert PeerResult.from_json(old).scored_ranks == {}


def test_unseen_stages_are_the_held_out_users_arriving_histories() -> None:
    found = data()
    held = np.array([0, 2])
    stages = unseen_stages(found, held)
    assert list(stages) == [unseen_stage(n) for n in (1, 2, 3, 5, 10, None)]
    assert unseen_stage(None) == "unseen-all"
    for length in (1, 2, 3, 5, 10, None):
        entries = stages[unseen_stage(length)]
        assert len(entries) == 2
        for entry, user in zip(entries, held, strict=True):
            history = [*found.train[user].tolist(), int(found.valid[user])]
            assert entry["history"] == history
            assert entry["session"] == (history if length is None else history[-length:])
            assert entry["target"] == int(found.test[user])


def test_the_strongest_peer_trains_again_without_the_held_out_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = data()
    split = _split()
    seen: list[tuple[set[str], list[int], set[str], int]] = []

    def fake_run(
        _python: Path, run_split: pd.DataFrame, run_data: SequenceData, spec: PeerSpec,
        seed: int, *_: Any, scored: dict[str, Any], **__: Any,
    ) -> PeerResult:  # fmt: skip
        seen.append((set(run_split["user"]), list(run_data.evaluable("test")), set(scored), seed))
        return _result(spec.model, seed, 0.3, {k: [0] * len(v) for k, v in scored.items()})

    monkeypatch.setattr(peer_grid, "run_peer", fake_run)
    runs = PeerRuns(Selection("SASRec", [], "s"), [_result("SASRec", 0, 0.3, {})])
    results = peer_grid.run_unseen_peer(
        Path("python"), split, found, "d", runs, (0, 1), SASRecConfig(), "cpu", tmp_path,
        log=lambda _: None,
    )  # fmt: skip
    held = held_out_users(found)
    gone = {str(u) for u in found.users[held]}
    assert [result.seed for result in results] == [0, 1]
    for users, evaluable, stages, _ in seen:
        assert not users & gone and users  # the held-out users are not in its training split
        assert not set(evaluable) & set(held.tolist())  # nor validated or tested on
        assert stages == set(unseen_stages(found, held))
    # Kept: a second call trains nothing.
    seen.clear()
    peer_grid.run_unseen_peer(
        Path("python"), split, found, "d", runs, (0, 1), SASRecConfig(), "cpu", tmp_path,
        log=lambda _: None,
    )  # fmt: skip
    assert seen == []


def test_the_unseen_peer_row_and_sweep() -> None:
    comparison = _comparison(anonymous=False)
    scored = {unseen_stage(n): [0, 30] for n in (1, 2, 3, 5, 10)} | {unseen_stage(None): [1, 2]}
    runs = [_result("SASRec", seed, 0.3, scored) for seed in (0, 1)]
    add_unseen_peer(comparison, "SASRec", runs)
    (row,) = comparison.scenario_rows(UNSEEN_PREFIX)
    assert row.key == "unseen-peer" and "RecBole SASRec" in row.label
    found = comparison.by_row(row)
    assert [run.seed for run in found] == [0, 1]
    np.testing.assert_array_equal(found[0].ranks, [1, 2])
    expected = (1 / np.log2(3) + 1 / np.log2(4)) / 2
    assert found[0].test["NDCG@10"] == pytest.approx(expected)
    sweep = comparison.sweep[UNSEEN_PREFIX][PEER_KEY]
    assert list(sweep) == ["1", "2", "3", "5", "10", "all"]
    assert sweep["1"] == [pytest.approx(0.5)] * 2 and sweep["all"] == [pytest.approx(expected)] * 2
