from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.persona_by_user import Grouping, ndcg10, read_rows


def test_groups_are_about_equal_cover_every_user_once_and_name_their_range() -> None:
    values = np.array([5, 1, 9, 3, 7, 2, 8, 4, 6, 10])
    groups = Grouping("length", values, "items").groups(2)
    assert [label for label, _ in groups] == ["1-5", "6-10"]
    assert sorted(np.concatenate([idx for _, idx in groups]).tolist()) == list(range(10))
    assert set(values[groups[0][1]]) == {1, 2, 3, 4, 5}


def test_tied_values_stay_in_one_group() -> None:
    values = np.array([3, 3, 3, 3, 3, 3, 4, 9])  # most users share the lowest value
    groups = Grouping("length", values, "items").groups(4)
    found = {label: set(values[idx]) for label, idx in groups}
    assert sum(3 in v for v in found.values()) == 1
    assert sorted(np.concatenate([idx for _, idx in groups]).tolist()) == list(range(8))


def test_ndcg_from_ranks() -> None:
    assert ndcg10(np.array([0, 1, 9, 10])) == pytest.approx(
        [1.0, 1 / np.log2(3), 1 / np.log2(11), 0.0]
    )


def test_rows_are_stacked_seed_by_seed_from_one_set_of_records(tmp_path: Path) -> None:
    folder = tmp_path / "seeds" / "abc"
    folder.mkdir(parents=True)
    for seed, ranks in enumerate(([0, 20], [1, 0])):
        runs = [{"key": "blend", "ranks": ranks}, {"key": "only-in-seed0", "ranks": ranks}]
        (folder / f"seed{seed}.json").write_text(json.dumps({"runs": runs[: 2 - seed]}))
    rows = read_rows(tmp_path)
    assert list(rows) == ["blend"]  # a row missing from a seed is left out
    assert rows["blend"] == pytest.approx(np.array([[1.0, 0.0], [1 / np.log2(3), 1.0]]))
    (tmp_path / "seeds" / "other").mkdir()
    with pytest.raises(SystemExit, match="2 sets of seeds"):
        read_rows(tmp_path)
