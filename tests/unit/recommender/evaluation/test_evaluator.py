"""The one evaluator against hand-computed ranks and a plain NumPy loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from learners.sasrec.data import SequenceData
from recommender.evaluation.evaluator import rank_users, score_table, target_ranks
from recommender.evaluation.metrics import summarise

ITEMS = [f"i{k}" for k in range(1, 31)]  # indices 1..30


def users_data(n_users: int = 7, seed: int = 0) -> SequenceData:
    """Users with different history lengths; no target appears in its own history."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        chosen = rng.choice(ITEMS, size=3 + u % 5, replace=False)
        for position, item in enumerate(chosen):
            stage = (
                "train"
                if position < len(chosen) - 2
                else ["valid", "test"][position - len(chosen) + 2]
            )
            rows.append((f"u{u}", item, position, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=ITEMS)


def numpy_ranks(table: np.ndarray, data: SequenceData, stage: str) -> list[int]:
    """The rule written as a loop: items other than padding, history and the target, with
    a score at least the target's, count ahead of it."""
    inputs = data.inputs(stage)  # type: ignore[arg-type]
    targets = data.targets(stage)  # type: ignore[arg-type]
    ranks = []
    for u in data.evaluable(stage):  # type: ignore[arg-type]
        seen, target = set(inputs[u].tolist()), int(targets[u])
        ahead = 0
        for item in range(1, data.n_items + 1):
            if item != target and item not in seen and table[u, item] >= table[u, target]:
                ahead += 1
        ranks.append(ahead)
    return ranks


@pytest.mark.parametrize("batch_size", [1, 2, 3, 512])
@pytest.mark.parametrize("stage", ["valid", "test"])
def test_ranks_match_a_plain_loop_at_every_batch_size(batch_size: int, stage: str) -> None:
    data = users_data()
    rng = np.random.default_rng(5)
    # Coarse scores: many exact ties, which the rule counts against the target.
    table = rng.integers(0, 4, (len(data.users), data.n_items + 1)).astype(np.float32)
    ranks = rank_users(score_table(table), data, stage, batch_size=batch_size)  # type: ignore[arg-type]
    assert ranks.tolist() == numpy_ranks(table, data, stage)
    # The histories differ from user to user, so the seen items matter per row.
    assert len({len(h) for h in data.inputs(stage)}) > 2  # type: ignore[arg-type]


def test_hand_computed_ranks_and_metrics_of_a_fake_peer() -> None:
    # One user: trains on i1, i2; validation i3; test i4; catalogue of 6 items.
    frame = pd.DataFrame(
        [("u", f"i{k}", k, s) for k, s in
         [(1, "train"), (2, "train"), (3, "valid"), (4, "test")]],
        columns=["user", "item", "position", "split"],
    )  # fmt: skip
    data = SequenceData.from_split(frame, catalogue=[f"i{k}" for k in range(1, 7)])
    #                   pad  i1   i2   i3   i4   i5   i6
    table = np.array([[9.0, 9.0, 9.0, 5.0, 7.0, 7.0, 1.0]], np.float32)
    # Test: i1, i2, i3 are history; i5 ties with the target i4 and counts ahead: rank 1.
    assert rank_users(score_table(table), data, "test").tolist() == [1]
    # Validation: history i1, i2; i4 and i5 score above i3: rank 2.
    ranks = rank_users(score_table(table), data, "valid")
    assert ranks.tolist() == [2]
    metrics = summarise(ranks, ks=(1, 10))
    assert metrics["HR@1"] == 0.0 and metrics["HR@10"] == 1.0
    assert metrics["NDCG@10"] == pytest.approx(1 / np.log2(4)) and metrics["MRR@10"] == 1 / 3


def test_a_constant_scorer_ranks_every_target_last() -> None:
    data = users_data()
    table = np.zeros((len(data.users), data.n_items + 1), np.float32)
    ranks = rank_users(score_table(table), data, "test")
    inputs = data.inputs("test")
    expected = [data.n_items - len(set(inputs[u].tolist())) - 1 for u in data.evaluable("test")]
    assert ranks.tolist() == expected


def test_a_target_the_user_chose_before_still_competes() -> None:
    scores = torch.tensor([[0.0, 3.0, 2.0, 1.0]])
    seen = torch.tensor([[False, True, True, False]])  # the target, item 2, was seen
    assert target_ranks(scores, seen, torch.tensor([2])).tolist() == [0]
    with pytest.raises(ValueError, match="NaN"):
        target_ranks(torch.tensor([[0.0, float("nan"), 1.0]]), seen[:, :3], torch.tensor([2]))
