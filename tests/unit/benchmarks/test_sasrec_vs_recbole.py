"""The RecBole comparison's split file and its equal-time plot, without RecBole."""

from pathlib import Path

import pandas as pd

from benchmarks.sasrec_vs_recbole import check_same_split, plot_curves, write_atomic


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
