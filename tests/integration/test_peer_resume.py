"""A RecBole peer run stopped part-way continues from its last epoch and ends exactly as an
uninterrupted run, also when only its state was carried to another folder; a kept state of
other inputs is not resumed, but one asked to rank other scenario stages is. Needs
RecBole's environment (built once under KGREC_HOME, as the comparison's test does), not the
graph."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgstore.settings import kgrec_home
from kgstore.splits import in_time_order
from learners.sasrec.data import SequenceData
from recommender.experiments.peers.driver import (
    PeerPaused,
    PeerSpec,
    recbole_python,
    run_peer,
)
from recommender.experiments.scenarios import anonymous_stage, anonymous_stages


def small_split(users: int = 30, items: int = 40, seed: int = 0) -> pd.DataFrame:
    """Leave-one-out in time order: each user's last two clicks are validation and test."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        clicks = rng.choice(items, size=int(rng.integers(6, 12)), replace=False)
        for position, item in enumerate(clicks):
            part = "test" if position == len(clicks) - 1 else "train"
            part = "valid" if position == len(clicks) - 2 else part
            rows.append((f"u{u}", f"i{item}", float(position), position, part))
    return pd.DataFrame(rows, columns=["user", "item", "timestamp", "position", "split"])


def test_a_paused_peer_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    python = recbole_python(kgrec_home() / "bench" / "recbole-venv")
    split = small_split()
    data = SequenceData.from_split(in_time_order(split))
    spec = PeerSpec("GRU4Rec", {"train_batch_size": 32})

    def run(work: str, seed: int = 0, pause_after: int | None = None, scored=None):  # type: ignore[no-untyped-def]
        return run_peer(
            python, split, data, spec, seed, tmp_path / work, epochs=5, patience=5,
            max_len=10, pause_after=pause_after, scored=scored,
        )  # fmt: skip

    whole = run("whole")
    assert whole.resumed_after == 0 and len(whole.curve) == 5
    with pytest.raises(PeerPaused):
        run("parts", pause_after=2)
    assert (tmp_path / "parts" / "resume.pt").exists()
    # Carried elsewhere with its state alone (another machine, another folder; the folder it
    # was made in gone): it goes on.
    with pytest.raises(PeerPaused):
        run("source", pause_after=2)
    moved = tmp_path / "moved"
    (moved / "saved").mkdir(parents=True)
    shutil.move(tmp_path / "source" / "resume.pt", moved / "resume.pt")
    for best in (tmp_path / "source" / "saved").glob("*.pth"):
        shutil.move(best, moved / "saved" / best.name)
    shutil.rmtree(tmp_path / "source")
    carried = run("moved")
    assert carried.resumed_after == 2
    np.testing.assert_array_equal(carried.test_ranks, whole.test_ranks)
    assert [row[2] for row in carried.curve] == [row[2] for row in whole.curve]
    with pytest.raises(PeerPaused):  # a second call trains two more epochs, then pauses again
        run("parts", pause_after=2)
    parts = run("parts")
    assert parts.resumed_after == 4
    assert [row[2] for row in parts.curve] == [row[2] for row in whole.curve]
    assert parts.best_epoch == whole.best_epoch and parts.best_valid == whole.best_valid
    np.testing.assert_array_equal(parts.valid_ranks, whole.valid_ranks)
    np.testing.assert_array_equal(parts.test_ranks, whole.test_ranks)
    # A finished run's state reloads without training, to the same result, also when it is
    # asked to rank scenario stages it was not trained with: the test users from their
    # whole history (the test itself) and from their last items only.
    users = data.evaluable("test")
    whole_history = [
        {"history": data.inputs("test")[u].tolist(), "target": int(data.targets("test")[u])}
        for u in users
    ]
    again = run("parts", scored={**anonymous_stages(data), "as-test": whole_history})
    assert again.resumed_after == 5 and [r[2] for r in again.curve] == [r[2] for r in whole.curve]
    np.testing.assert_array_equal(again.test_ranks, whole.test_ranks)
    np.testing.assert_array_equal(again.scored_ranks["as-test"], whole.test_ranks)
    one = again.scored_ranks[anonymous_stage(1)]
    assert len(one) == len(users) and not np.array_equal(one, whole.test_ranks)
    assert set(again.scored_ranks) == {"as-test", *anonymous_stages(data)}
    # Another seed in the same folder does not resume the first seed's state.
    other = run("parts", seed=1)
    assert other.resumed_after == 0 and len(other.curve) == 5
