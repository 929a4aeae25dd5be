"""The RecBole comparison's split file and its equal-time plot, without RecBole."""

import json
from pathlib import Path

import pandas as pd

from benchmarks.sasrec_vs_recbole import kept_seeds, plot_curves
from recommender.experiments.peers.driver import check_same_split, write_atomic

SETTINGS = {"epochs": 200, "patience": 10, "recbole_minutes": 95.0, "device": "cpu"}


def split() -> pd.DataFrame:
    rows = []
    for user in ("u1", "u2"):
        for position, item in enumerate(("a", "b", "c", "d")):
            part = ("train", "train", "valid", "test")[position]
            rows.append((user, f"{user}{item}", position, position, part))
    return pd.DataFrame(rows, columns=["user", "item", "timestamp", "position", "split"])


def test_atomic_file_orders_each_user_by_the_recorded_split(tmp_path: Path) -> None:
    check_same_split(split())
    write_atomic(split(), tmp_path, "toy")
    frame = pd.read_csv(tmp_path / "toy" / "toy.inter", sep="\t")
    assert list(frame.columns) == ["user_id:token", "item_id:token", "timestamp:float"]
    last = frame.sort_values("timestamp:float").groupby("user_id:token").tail(1)
    assert sorted(last["item_id:token"]) == ["u1d", "u2d"]  # the test items come last


def test_curves_plot_both_models(tmp_path: Path) -> None:
    rows = {
        "kgrec": [{"curve": [[0, 2.0, 0.05], [1, 4.0, 0.08]]}],
        "RecBole": [{"curve": [[0, 130.0, 0.02], [1, 260.0, 0.03]]}],
    }
    path = tmp_path / "curves.png"
    plot_curves(rows, "toy", path)
    assert path.stat().st_size > 10_000


def saved(path: Path, settings: dict[str, object], seeds: list[int], recbole_runs: int) -> Path:
    runs = {
        "kgrec": [{"seed": s, "model": "kgrec"} for s in seeds],
        "RecBole": [{"seed": s, "model": "RecBole"} for s in seeds[:recbole_runs]],
    }
    path.write_text(json.dumps({"settings": settings, "seeds": seeds, "runs": runs}))
    return path


def test_seeds_with_both_models_are_kept_for_the_same_settings(tmp_path: Path) -> None:
    path = saved(tmp_path / "r.json", SETTINGS, [0, 3], recbole_runs=2)
    kept = kept_seeds(path, dict(SETTINGS))
    assert sorted(kept) == [0, 3]
    assert kept[3] == {
        "kgrec": {"seed": 3, "model": "kgrec"},
        "RecBole": {"seed": 3, "model": "RecBole"},
    }


def test_a_seed_missing_one_model_is_run_again(tmp_path: Path) -> None:
    path = saved(tmp_path / "r.json", SETTINGS, [0, 1], recbole_runs=1)
    assert sorted(kept_seeds(path, SETTINGS)) == [0]


def test_nothing_is_kept_from_other_settings_or_no_file(tmp_path: Path) -> None:
    path = saved(tmp_path / "r.json", SETTINGS, [0], recbole_runs=1)
    assert kept_seeds(path, {**SETTINGS, "recbole_minutes": None}) == {}
    assert kept_seeds(tmp_path / "missing.json", SETTINGS) == {}
