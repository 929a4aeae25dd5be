"""Faults injected against the real Neo4j: lost acknowledgements, interrupted drops,
concurrent and killed persona writers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

import neo4j
import numpy as np
import pytest

from kgstore import graph as graph_module
from kgstore.graph import Database, Graph
from kgstore.personas import PersonaWriteConflict, read_personas, write_personas
from kgstore.stats import graph_counts
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import generated


def test_a_batch_retried_after_its_commit_is_not_written_twice(
    db: Database, graph: Graph, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every batch's first attempt commits on another connection and then fails as a lost
    acknowledgement would; the driver retries it; counts stay exact."""
    original = graph_module._write_batch
    lost = {"acks": 0}

    def acknowledgement_lost(tx: neo4j.ManagedTransaction, *args: Any) -> None:
        statement, params, _ = args
        key = (statement, repr(params["rows"][:1]), len(params["rows"]))
        if key not in seen:
            seen.add(key)
            with db.driver.session(database=db.database) as other:
                other.execute_write(original, *args)  # the commit goes through...
            lost["acks"] += 1
            raise neo4j.exceptions.ServiceUnavailable("connection lost")  # ...unacknowledged
        original(tx, *args)

    seen: set[tuple[str, str, int]] = set()
    monkeypatch.setattr(graph_module, "_write_batch", acknowledgement_lost)
    data = generated(namespace)
    new_ingestor(db, tmp_path, batch_size=37).ingest(data)
    assert lost["acks"] >= 10  # every phase's batches were retried
    assert graph_counts(graph) == data.expected_counts()


def _every_namespace(db: Database) -> dict[str, int]:
    records = db.read_text("MATCH (n) RETURN n.dataset AS dataset, count(*) AS nodes")
    return {str(r["dataset"]): r["nodes"] for r in records}


def test_an_interrupted_drop_finishes_when_run_again_and_spares_other_namespaces(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"test-drop-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    ingestor = new_ingestor(db, tmp_path, batch_size=50)
    try:
        for name in names:
            ingestor.ingest(generated(name))
        before = _every_namespace(db)
        doomed, kept = names
        runs = {"labels": 0}
        real_run = neo4j.Session.run

        def dies_after_two_labels(self: neo4j.Session, query: Any, *args: Any, **kw: Any) -> Any:
            if "DETACH DELETE" in str(query):
                runs["labels"] += 1
                if runs["labels"] == 3:
                    raise KeyboardInterrupt  # killed mid-drop
            return real_run(self, query, *args, **kw)

        monkeypatch.setattr(neo4j.Session, "run", dies_after_two_labels)
        with pytest.raises(KeyboardInterrupt):
            ingestor.drop(doomed)
        monkeypatch.setattr(neo4j.Session, "run", real_run)
        half = _every_namespace(db)
        assert 0 < half[doomed] < before[doomed]  # the Dataset node and more remain visible
        assert db.graph(doomed).read("load/read_dataset")  # still listed, so not forgotten
        ingestor.drop(doomed)
        after = _every_namespace(db)
        assert doomed not in after
        assert after == {k: v for k, v in before.items() if k != doomed}
        assert after[kept] == before[kept]
    finally:
        for name in names:
            ingestor.drop(name)


# -- persona writers ----------------------------------------------------------------------


def _users(graph: Graph) -> list[str]:
    return [r["id"] for r in graph.read_text(
        "MATCH (u:User {dataset: $dataset}) RETURN u.id AS id ORDER BY id"
    )]  # fmt: skip


def _persona_state(graph: Graph) -> tuple[set[Any], int, int]:
    """The persona versions on users, users without a persona, users with staging left."""
    records = graph.read_text(
        "MATCH (u:User {dataset: $dataset}) RETURN u.persona_version AS version, "
        "u.persona IS NULL AS missing, u.persona_staged IS NOT NULL AS staged"
    )
    return (
        {r["version"] for r in records},
        sum(r["missing"] for r in records),
        sum(r["staged"] for r in records),
    )


@pytest.fixture
def ingested(db: Database, graph: Graph, namespace: str, tmp_path: Path) -> Graph:
    new_ingestor(db, tmp_path).ingest(generated(namespace))
    return graph


def test_a_second_persona_writer_fails_cleanly_and_the_first_publishes(
    ingested: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = _users(ingested)
    rng = np.random.default_rng(0)
    first, second = (rng.normal(size=(len(users), 64)).astype(np.float32) for _ in range(2))
    write_personas(ingested, users, first, "m0", progress=False)
    original = graph_module.Graph.write_rows
    outcome: dict[str, Any] = {}

    def second_writer_meanwhile(self: Graph, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if "second" not in outcome:  # while the first writer is between staging and publish
            outcome["second"] = None
            try:
                write_personas(ingested, users, second, "m2", progress=False)
            except PersonaWriteConflict as error:
                outcome["second"] = error

    monkeypatch.setattr(graph_module.Graph, "write_rows", second_writer_meanwhile)
    version = write_personas(ingested, users, first, "m1", progress=False)
    monkeypatch.setattr(graph_module.Graph, "write_rows", original)
    assert isinstance(outcome["second"], PersonaWriteConflict)
    assert "another" in str(outcome["second"])
    read = read_personas(ingested)
    assert read is not None and read.version == version and read.model == "m1"
    versions, missing, staged = _persona_state(ingested)
    assert versions == {version} and missing == 0 and staged == 0
    # The lock is free again: a later writer succeeds.
    later = write_personas(ingested, users, second, "m3", progress=False)
    assert _persona_state(ingested) == ({later}, 0, 0)


def _stage_then_die(uri: str, user: str, password: str, database: str, dataset: str) -> None:
    """A persona writer that is killed (SIGKILL) between staging and publish."""
    from kgstore import graph as module
    from kgstore.personas import write_personas as write

    original = module.Graph.write_rows

    def staged_then_killed(self: Graph, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    module.Graph.write_rows = staged_then_killed  # type: ignore[method-assign, assignment]
    with neo4j.GraphDatabase.driver(uri, auth=(user, password)) as driver:
        graph = Graph(driver, database, dataset)
        users = _users(graph)
        write(graph, users, np.ones((len(users), 64), np.float32), "killed", progress=False)


def test_a_persona_writer_killed_between_staging_and_publish(
    ingested: Graph, neo4j_settings: Any
) -> None:
    users = _users(ingested)
    published = write_personas(
        ingested, users, np.full((len(users), 64), 0.5, np.float32), "m0", progress=False
    )
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=_stage_then_die,
        args=(
            neo4j_settings.uri,
            neo4j_settings.user,
            neo4j_settings.password,
            neo4j_settings.database,
            ingested.dataset,
        ),
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL
    # The old version is still the one read, whole.
    read = read_personas(ingested)
    assert read is not None and read.version == published
    # Its lock names a process of this machine that is gone: a re-run takes it over and
    # publishes exactly one version, readable.
    rerun = write_personas(
        ingested, users, np.full((len(users), 64), 2.0, np.float32), "m1", progress=False
    )
    assert _persona_state(ingested) == ({rerun}, 0, 0)
    again = read_personas(ingested)
    assert again is not None and again.version == rerun and float(again.vectors[0, 0]) == 2.0


def test_two_concurrent_persona_writers_leave_one_whole_version(ingested: Graph) -> None:
    """Both start at once: each either publishes or fails with a conflict; the graph ends
    with one version on every user, nothing staged, and the lock free."""
    from concurrent.futures import ThreadPoolExecutor

    users = _users(ingested)
    barrier = threading.Barrier(2)

    def writer(value: float) -> str | PersonaWriteConflict:
        barrier.wait()
        try:
            vectors = np.full((len(users), 64), value, np.float32)
            return write_personas(ingested, users, vectors, f"m{value}", progress=False)
        except PersonaWriteConflict as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(writer, [1.0, 2.0]))
    published = [o for o in outcomes if isinstance(o, str)]
    assert published, outcomes
    versions, missing, staged = _persona_state(ingested)
    assert versions == {published[-1]} or versions == {published[0]}
    assert len(versions) == 1 and missing == 0 and staged == 0
    read = read_personas(ingested)
    assert read is not None and len(np.unique(read.vectors)) == 1  # not a mix of two writers
    assert not ingested.read("load/read_persona_lock")[0]["holder"]


def test_reads_are_paged_and_pages_add_up_to_the_whole(
    ingested: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids, vectors and personas read a page at a time give what one read gives."""
    from kgstore import export, ingest, personas

    users = _users(ingested)
    vectors = np.arange(len(users) * 64, dtype=np.float32).reshape(len(users), 64)
    write_personas(ingested, users, vectors, "m", progress=False)
    whole = (
        ingest._element_ids(ingested, "Item"),
        export.read_node_vectors(ingested, "User", "persona"),
        read_personas(ingested),
    )
    pages: list[int] = []
    original = Graph.read_pages

    def counted(self: Graph, *args: Any, **kwargs: Any) -> Any:
        for page in original(self, *args, **kwargs):
            pages.append(len(page["ids"]))
            yield page

    monkeypatch.setattr(Graph, "read_pages", counted)
    for module, name in ((ingest, "ID_PAGE"), (export, "VECTOR_PAGE"), (personas, "PERSONA_PAGE")):
        monkeypatch.setattr(module, name, 7)
    paged = (
        ingest._element_ids(ingested, "Item"),
        export.read_node_vectors(ingested, "User", "persona"),
        read_personas(ingested),
    )
    assert paged[0] == whole[0] and len(paged[0]) == 40
    assert list(paged[1][0]) == list(whole[1][0]) == users
    assert np.array_equal(paged[1][1], whole[1][1]) and np.array_equal(paged[1][1], vectors)
    assert paged[2] is not None and whole[2] is not None
    assert list(paged[2].ids) == users and np.array_equal(paged[2].vectors, vectors)
    assert max(pages) == 7 and len(pages) >= 3 * (30 // 7)
