"""The three public datasets, ingested for real: exact counts, idempotence, a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgstore.datasets import load_dataset
from kgstore.graph import Database, Graph
from kgstore.settings import Neo4jSettings
from kgstore.stats import graph_counts
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import assert_no_heldout_edges

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["ml-100k", "amazon-kg-books", "beauty"])
def test_ingest_matches_the_dataset_and_is_idempotent(
    db: Database, graph: Graph, name: str, datasets_dir: Path, namespace: str, tmp_path: Path
) -> None:
    data = load_dataset(datasets_dir / name, name=namespace)
    ingestor = new_ingestor(db, tmp_path)
    ingestor.ingest(data)
    expected = data.expected_counts()
    assert graph_counts(graph) == expected
    ingestor.ingest(data, force=True)  # every phase again, through MERGE
    assert graph_counts(graph) == expected
    assert_no_heldout_edges(graph, data)


def test_a_killed_ingest_restarted_ends_with_the_same_counts(
    graph: Graph,
    datasets_dir: Path,
    database: str,
    namespace: str,
    tmp_path: Path,
    neo4j_settings: Neo4jSettings,
) -> None:
    env = dict(
        os.environ,
        KGREC_HOME=str(tmp_path),
        NEO4J_URI=neo4j_settings.uri,
        NEO4J_USER=neo4j_settings.user,
        NEO4J_PASSWORD=neo4j_settings.password,
        NEO4J_DATABASE=database,
    )
    command = [
        sys.executable,
        "-m",
        "recommender.cli",
        "ingest",
        "amazon-kg-books",
        "--path",
        str(datasets_dir / "amazon-kg-books"),
        "--name",
        namespace,
        "--batch-size",
        "2000",
        "--quiet",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            _, rels = graph_counts(graph)
            if rels.get("IN_CATEGORY", 0) > 0:
                break
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        else:
            pytest.fail("the ingest never started writing relationships")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    data = load_dataset(datasets_dir / "amazon-kg-books", name=namespace)
    expected = data.expected_counts()
    assert graph_counts(graph) != expected, "killed too late to test"

    restarted = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert restarted.returncode == 0, restarted.stderr
    assert "graph matches the dataset" in restarted.stdout
    assert graph_counts(graph) == expected
