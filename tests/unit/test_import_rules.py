"""The import rules of docs/architecture.md hold, and the check catches a forbidden import
(import-linter's contracts in pyproject.toml, run on a copy of the code with one import
planted)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kgstore", "learners", "recommender", "benchmarks")
LINT = Path(sys.executable).parent / "lint-imports"


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=folder,
        env={"PYTHONPATH": str(folder), "PATH": str(LINT.parent)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_code_keeps_every_import_rule() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("kgstore/stats.py", "import recommender.config", "kgstore knows Neo4j"),
        ("learners/sasrec/data.py", "import kgstore.splits", "learners see tensors"),
        ("recommender/serving/bundle.py", "import recommender.experiments.report", "serving"),
        ("recommender/evaluation/metrics.py", "import recommender.pipelines.inputs", "layers"),
        ("kgstore/schema.py", "import kgstore.ingest", "no import cycles"),
    ],
)
def test_a_forbidden_import_breaks_the_check(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{planted}\n", encoding="utf-8")
    result = lint(tmp_path)
    assert result.returncode == 1, result.stdout
    line = next(line for line in result.stdout.splitlines() if broken in line)
    assert line.endswith("BROKEN"), result.stdout
