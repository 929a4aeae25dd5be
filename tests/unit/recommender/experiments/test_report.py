from __future__ import annotations

from pathlib import Path

import numpy as np

from recommender.config import SASRecConfig
from recommender.evaluation.metrics import MISS, summarise
from recommender.experiments.comparison import RetrieverComparison, Row, RunResult
from recommender.experiments.report import markdown, notes_path, write_all
from recommender.experiments.report_sections import paired_p_values

GOOD, BAD, AGAIN = Row("good", "good"), Row("bad", "bad"), Row("again", "good again")


def table() -> RetrieverComparison:
    rng = np.random.default_rng(0)
    users = np.arange(300)
    runs = []
    for seed in (0, 1, 2):
        good = rng.integers(0, 5, 300)  # targets near the top
        bad = np.where(rng.random(300) < 0.5, MISS, rng.integers(50, 500, 300))
        for row, ranks in ((GOOD, good), (BAD, bad), (AGAIN, good.copy())):
            runs.append(RunResult(row, seed, None, {"NDCG@10": 0.1}, summarise(ranks), None, ranks))
    return RetrieverComparison(
        "toy", (0, 1, 2), 500, users, 0, runs, {}, SASRecConfig(), "cpu", 1.0
    )


def test_paired_tests_separate_different_rows_only() -> None:
    p = paired_p_values(table(), "NDCG", 10)
    assert p[(GOOD, BAD)] < 1e-6
    assert p[(GOOD, AGAIN)] == 1.0  # identical per-user values


def test_report_has_the_papers_layout_and_files(tmp_path: Path) -> None:
    text = markdown(table(), "kgrec experiment table3 --dataset toy", "a machine")
    assert "## k = 10" in text and "## k = 100" in text
    assert "| good | 1.0000 ± 0.0000 |" in text  # HR@10 of ranks below 5
    assert "No test user of this dataset is that cold." in text
    paths = write_all(table(), tmp_path, "cmd", "machine")
    assert [p.name for p in paths] == [
        "table3-toy.md", "table3-toy.json", "table3-toy.png", "table3-toy-curves.png"
    ]  # fmt: skip
    assert all(p.stat().st_size > 0 for p in paths)


def test_hand_written_notes_survive_a_rerun(tmp_path: Path) -> None:
    write_all(table(), tmp_path, "cmd", "machine")
    generated = (tmp_path / "table3-toy.md").read_text(encoding="utf-8")
    notes_path(tmp_path, "toy").write_text("## What changed\n\nThe blend won.\n", encoding="utf-8")
    write_all(table(), tmp_path, "cmd", "machine")
    text = (tmp_path / "table3-toy.md").read_text(encoding="utf-8")
    assert text.startswith(generated) and text.endswith("## What changed\n\nThe blend won.\n")
    write_all(table(), tmp_path, "cmd", "machine")  # rewriting does not stack the notes
    assert (tmp_path / "table3-toy.md").read_text(encoding="utf-8").count("The blend won.") == 1
