from __future__ import annotations

from pathlib import Path

import numpy as np

from recommender.config import SASRecConfig
from recommender.evaluation.metrics import MISS, summarise
from recommender.experiments.comparison import RetrieverComparison
from recommender.experiments.report import markdown, notes_path, write_all
from recommender.experiments.report_sections import paired_p_values
from recommender.experiments.runs import Row, RunResult

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
    return RetrieverComparison("toy", (0, 1, 2), 500, users, runs, {}, SASRecConfig(), "cpu", 1.0)


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


def test_popularity_section_reads_tail_users_and_each_rows_lists() -> None:
    found = table()
    found.tail = np.arange(300) < 100  # the first 100 users have a tail target
    for run in found.runs:
        run.lists = {"Coverage@10": 0.5, "ARP@10": 10.0 + run.seed} if run.row != BAD else {}
    text = markdown(found, "cmd", "machine")
    section = text[text.index("## Popularity bias") :]
    assert "100 of the 300 test users have a tail target" in section
    good = next(line for line in section.splitlines() if line.startswith("| good |"))
    # Tail HR@10 over the tail users only (every good rank is under 5); ARP over seeds 10..12.
    assert good.split("|")[2].strip() == "1.0000 ± 0.0000"
    assert good.split("|")[5].strip() == "11.0000 ± 0.8165"
    bad = next(line for line in section.splitlines() if line.startswith("| bad |"))
    assert bad.split("|")[4].strip() == "-"  # no lists of its own
    assert "## Popularity bias" not in markdown(table(), "cmd", "machine")
