"""The repository carries no dataset: the datasets' licences forbid redistributing them, so
no tracked file may be a dataset file or hold interactions derived from one (a RecBole
peer's unfinished run is carried as its state alone)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]

# RecBole's atomic files and MovieLens' raw ones: what a dataset folder or a peer run's
# working copy of the split holds.
DATA_SUFFIXES = frozenset({".inter", ".item", ".user", ".kg", ".link", ".net", ".dat"})
# In a peer run's work folder only the state a resume needs: no inputs (users' histories).
WORK_FILES = ("resume.pt", "saved/")


def forbidden(path: str) -> str | None:
    """Why a tracked ``path`` must not be in the repository, or None."""
    name = PurePosixPath(path)
    if name.suffix in DATA_SUFFIXES:
        return "a dataset file"
    for index, part in enumerate(name.parts[:-1]):
        if part.endswith(".work"):
            inside = "/".join(name.parts[index + 1 :])
            if not inside.startswith(WORK_FILES):
                return "a peer run's inputs (users' histories), not its state"
    return None


def test_the_rule_tells_data_from_state() -> None:
    assert forbidden("docs/results/records/m/peers/k.work/inputs.json") is not None
    assert forbidden("docs/results/records/m/peers/k.work/kgrec/kgrec.inter") is not None
    assert forbidden("data/ml-100k/ml-100k.item") is not None
    assert forbidden("docs/results/records/m/peers/k.work/resume.pt") is None
    assert forbidden("docs/results/records/m/peers/k.work/saved/SASRec-x.pth") is None
    assert forbidden("docs/results/records/m/peers/k.json") is None
    assert forbidden("tests/fixtures/tiny.csv") is None


def test_no_tracked_file_is_dataset_data() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing is tracked to check")
    tracked = subprocess.run(
        [git, "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    found = {path: why for path in tracked if (why := forbidden(path)) is not None}
    assert not found, found
