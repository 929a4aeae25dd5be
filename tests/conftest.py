"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kgstore.settings import data_dir


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The public datasets; CI must have them, elsewhere their absence skips with a reason."""
    path = data_dir()
    if not (path / "ml-100k").is_dir():
        message = f"public datasets not found at {path} (set KGREC_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under ``tests/integration`` needs a real Neo4j: mark it ``integration``, so
    ``-m integration`` selects exactly those and ``-m "not integration"`` the others."""
    for item in items:
        if "tests/integration/" in item.nodeid:
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many integration tests ran against the real Neo4j."""
    outcomes: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if "tests/integration/" in getattr(report, "nodeid", "") and report.when in (
                "call",
                "setup",
            ):
                if outcome == "passed" and report.when == "setup":
                    continue
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if outcomes:
        summary = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
        terminalreporter.write_line(f"integration tests against a real Neo4j: {summary}")


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The packaged all-MiniLM-L6-v2 on one CPU thread (two collapse under a busy core)."""
    from learners.semantics import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(num_threads=1)
