"""Export, HDGI personas and their write-back on the real Neo4j."""

from __future__ import annotations

import threading
from pathlib import Path

import neo4j
import numpy as np
import pytest

from kgstore.export import ExportError, export_graph
from kgstore.graph import Database, Graph
from kgstore.personas import Personas, nearest_users, read_personas, write_personas
from kgstore.stats import graph_counts
from recommender.config import HDGI_FUSIONS, HDGIConfig
from recommender.pipelines.persona_learning import (
    PersonaError,
    PersonaReport,
    learn_personas,
    memory_path,
    restore_memory,
)
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import generated


def ingest(graph: Graph, home: Path) -> None:
    new_ingestor(graph, home).ingest(generated(graph.dataset))


def test_export_has_exactly_the_graph_counts_and_is_cached(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    ingest(graph, tmp_path)
    export = export_graph(graph, tmp_path / "cache", progress=False)
    nodes, relationships = graph_counts(graph)
    expected_nodes = {k: v for k, v in nodes.items() if k not in ("Dataset", "Relation")}
    assert export.counts() == (expected_nodes, relationships)
    cached = list((tmp_path / "cache").glob(f"{namespace}-*.npz"))
    assert len(cached) == 1
    again = export_graph(graph, tmp_path / "cache", progress=False)
    assert again.version == export.version
    for key, index in export.edges.items():
        np.testing.assert_array_equal(again.edges[key], index)
    # Any ingest that writes gives a new version, so the cache is not reused.
    new_ingestor(db, tmp_path).ingest(generated(namespace), force=True)
    assert export_graph(graph, tmp_path / "cache", progress=False).version != export.version


def test_the_memory_is_kept_and_can_be_rebuilt_from_the_checkpoint(
    graph: Graph, namespace: str, tmp_path: Path
) -> None:
    ingest(graph, tmp_path)
    report = learn_personas(graph, tmp_path, HDGIConfig(epochs=20), progress=False)
    assert report is not None
    path = memory_path(tmp_path, namespace, report.version)
    with np.load(path) as stored:
        kept = dict(stored)
    path.unlink()
    assert restore_memory(graph, tmp_path) == path
    with np.load(path) as stored:
        for name, array in stored.items():
            if array.dtype.kind in "fb":
                np.testing.assert_allclose(array, kept[name], atol=1e-5, err_msg=name)
            else:
                np.testing.assert_array_equal(array, kept[name], err_msg=name)
    # A checkpoint that does not give the published personas is refused, and nothing written.
    path.unlink()
    checkpoint = next((tmp_path / "models" / namespace).glob("*.pt"))
    import torch

    saved = torch.load(checkpoint, weights_only=True)
    saved["state"] = {k: v + 0.5 if k.startswith("encoder.path_out") else v
                      for k, v in saved["state"].items()}  # fmt: skip
    torch.save(saved, checkpoint)
    with pytest.raises(PersonaError, match="does not give the published personas"):
        restore_memory(graph, tmp_path)
    assert not path.exists()


def test_personas_are_written_for_every_user_with_interactions(
    graph: Graph, driver: neo4j.Driver, database: str, namespace: str, tmp_path: Path
) -> None:
    ingest(graph, tmp_path)
    report = learn_personas(graph, tmp_path, HDGIConfig(epochs=30), progress=False)
    assert report is not None
    assert report.users == 30
    assert report.result.losses[report.result.best_epoch] < report.result.losses[0]
    records, _, _ = driver.execute_query(
        "MATCH (u:User {dataset: $d}) RETURN count(u.persona) AS n, "
        "collect(DISTINCT size(u.persona)) AS sizes, collect(DISTINCT u.persona_version) AS v",
        d=namespace,
        database_=database,
    )
    assert records[0]["n"] == 30 and records[0]["sizes"] == [64]
    assert records[0]["v"] == [report.version]
    found = nearest_users(graph, "u3", k=3)
    assert len(found) == 3 and "u3" not in {n.user for n in found}
    assert [n.score for n in found] == sorted((n.score for n in found), reverse=True)
    # Centred personas: cosine tells users apart (it is not ~1 for everyone).
    records, _, _ = driver.execute_query(
        "MATCH (a:User {dataset: $d}), (b:User {dataset: $d}) WHERE a.id < b.id "
        "RETURN min(vector.similarity.cosine(a.persona, b.persona)) AS low, "
        "max(vector.similarity.cosine(a.persona, b.persona)) AS high",
        d=namespace,
        database_=database,
    )
    assert records[0]["high"] - records[0]["low"] > 0.2, records[0]
    records, _, _ = driver.execute_query(
        "MATCH (u:User {dataset: $d}) RETURN collect(u.persona) AS v",
        d=namespace,
        database_=database,
    )
    vectors = np.array(records[0]["v"])
    mean_norm = np.linalg.norm(vectors.mean(axis=0))
    assert mean_norm < 1e-3 * np.linalg.norm(vectors, axis=1).mean()  # centred on the mean user


def test_a_tuned_choice_is_reproduced_without_choosing_again(graph: Graph, tmp_path: Path) -> None:
    ingest(graph, tmp_path)
    grid = ({"epochs": 8, "patience": 8}, {"epochs": 4, "patience": 8})

    def learn(reproduce: str | None = None) -> PersonaReport | None:
        return learn_personas(
            graph, tmp_path, HDGIConfig(), progress=False, grid=grid, fusions=HDGI_FUSIONS,
            reproduce=reproduce,
        )  # fmt: skip

    tuned = learn()
    assert tuned is not None and len(tuned.tuning) == 4  # two fusions x two lengths
    # how far ahead the choice is, over validation users (the other fusion differs)
    assert tuned.margin is not None
    assert tuned.margin.low <= tuned.margin.difference <= tuned.margin.high
    assert tuned.margin.over in [t["changes"] for t in tuned.tuning]
    published = read_personas(graph)
    assert published is not None
    again = learn(reproduce=tuned.model)
    assert again is not None
    assert (again.model, again.config) == (tuned.model, tuned.config)
    assert len(again.tuning) == 2  # the chosen fusion's run only, with both its lengths
    assert again.margin is None  # nothing was chosen
    # the attention reported is that of the published personas' state
    assert again.attention == tuned.attention
    kept = np.load(memory_path(tmp_path, graph.dataset, tuned.version))
    assert list(tuned.attention.values()) == pytest.approx(kept["attention"].tolist())
    assert sum(tuned.attention.values()) == pytest.approx(1.0, abs=1e-5)
    reproduced = read_personas(graph)
    assert reproduced is not None and reproduced.model == tuned.model
    assert reproduced.version != published.version
    assert np.array_equal(reproduced.ids, published.ids)
    np.testing.assert_array_equal(reproduced.vectors, published.vectors)
    # A candidate that was not chosen gives what the choice scored it at.
    family = tuned.model.partition(":")[0]
    checked = 0
    for tried in tuned.tuning:
        changes = tried["changes"]
        assert isinstance(changes, dict)
        if (changes["epochs"], changes["path_norm"]) == (4, not tuned.config.path_norm):
            label = f"{'pathnorm-' if changes['path_norm'] else ''}epochs4-patience8"
            other = learn(reproduce=f"{family}:{label}")
            assert other is not None and other.config.epochs == 4
            mine = next(t for t in other.tuning if t["changes"] == changes)
            assert mine["valid_ndcg10"] == tried["valid_ndcg10"]
            checked += 1
    assert checked == 1
    with pytest.raises(PersonaError, match="no candidate is published as"):
        learn(reproduce=f"{family}:epochs5-patience8")
    with pytest.raises(PersonaError, match="cannot reproduce"):
        learn(reproduce=tuned.model.replace("seed0", "seed1"))


def test_nearest_users_widen_past_other_datasets_crowding_the_index(
    db: Database, graph: Graph, driver: neo4j.Driver, database: str, namespace: str, tmp_path: Path
) -> None:
    """The persona index spans every dataset: when another dataset's users sit closest to the
    query persona, the search widens until it has k users of the asked dataset."""
    ingest(graph, tmp_path)
    users = [f"u{u}" for u in range(30)]
    vectors = np.random.default_rng(1).standard_normal((30, 64)).astype(np.float32)
    write_personas(graph, users, vectors, "m", progress=False)
    crowd = f"{namespace}-crowd"
    near_u3 = vectors[3] + 1e-3 * np.random.default_rng(2).standard_normal((600, 64))
    try:
        driver.execute_query(
            "UNWIND range(0, size($vectors) - 1) AS k "
            "CREATE (:User {dataset: $crowd, id: 'c' + k, persona: $vectors[k]})",
            crowd=crowd,
            vectors=near_u3.astype(np.float32).tolist(),
            database_=database,
        )
        driver.execute_query("CALL db.awaitIndexes(60)", database_=database)
        found = nearest_users(graph, "u3", k=3)
        assert len(found) == 3
        assert {n.user for n in found} <= set(users) - {"u3"}
        similarity = vectors @ vectors[3] / np.linalg.norm(vectors, axis=1)
        similarity /= np.linalg.norm(vectors[3])
        expected = [users[i] for i in np.argsort(-similarity) if users[i] != "u3"][:3]
        assert [n.user for n in found] == expected
    finally:
        driver.execute_query(
            "MATCH (u:User {dataset: $crowd}) DETACH DELETE u", crowd=crowd, database_=database
        )


def test_readers_never_see_two_persona_versions(graph: Graph, tmp_path: Path) -> None:
    ingest(graph, tmp_path)
    assert read_personas(graph) is None
    users = [f"u{u}" for u in range(30)]
    rng = np.random.default_rng(0)
    written: dict[str, np.ndarray] = {}

    def write(batch_size: int) -> None:
        vectors = rng.standard_normal((30, 64)).astype(np.float32)
        version = write_personas(graph, users, vectors, "m", batch_size=batch_size, progress=False)
        written[version] = vectors

    write(1_000)
    seen: list[Personas] = []
    done = threading.Event()

    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not done.is_set():
                found = read_personas(graph)
                assert found is not None
                seen.append(found)
        except BaseException as error:  # surfaced below: a thread's failure fails the test
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()

    def reader_saw_enough() -> bool:
        return len(seen) > 5 and len({p.version for p in seen}) > 1

    try:
        # Batches of 4 users: many staged writes per version. A loaded machine may
        # starve the reader, so keep writing (bounded) until it has overlapped.
        writes = 0
        while writes < 5 or (not reader_saw_enough() and writes < 100):
            write(4)
            writes += 1
    finally:
        done.set()
        reader.join()
    assert not errors, errors
    assert reader_saw_enough(), (len(seen), writes)
    for personas in seen:  # every read is one whole version, vectors included
        order = [users.index(u) for u in personas.ids]
        assert sorted(order) == list(range(30))
        np.testing.assert_array_equal(personas.vectors, written[personas.version][order])


def test_bad_graphs_give_clear_messages(
    graph: Graph, driver: neo4j.Driver, database: str, namespace: str, tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match="not in the graph"):
        export_graph(graph, progress=False)
    ingest(graph, tmp_path)
    driver.execute_query(
        "MATCH (:Item {dataset: $d})-[r:HAS_GENRE]->() DELETE r", d=namespace, database_=database
    )
    export = export_graph(graph, progress=False)
    assert not any(rel == "HAS_GENRE" for _, rel, _ in export.edges)
    driver.execute_query(
        "MATCH (:User {dataset: $d})-[r:INTERACTED]->() DELETE r", d=namespace, database_=database
    )
    with pytest.raises(ExportError, match="has a training interaction"):
        export_graph(graph, progress=False)
    driver.execute_query(
        "MATCH (u:User {dataset: $d}) DETACH DELETE u", d=namespace, database_=database
    )
    with pytest.raises(ExportError, match="has no users"):
        export_graph(graph, progress=False)


def test_user_properties_from_the_dataset_are_read_without_kgrec_s_own(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    from kgstore.export import read_user_properties

    data = generated(namespace)
    data.users["gender"] = ["F" if u % 3 == 0 else "M" for u in range(len(data.users))]
    new_ingestor(db, tmp_path).ingest(data)
    learn_personas(graph, tmp_path, HDGIConfig(epochs=2), progress=False)
    properties = read_user_properties(graph)
    # The personas' vector, version, model and time are kgrec's, not the dataset's.
    assert list(properties.columns) == ["age", "gender"]
    assert sorted(properties.index) == sorted(data.users["id"])
    assert properties.loc["u3", "gender"] == "F" and properties.loc["u4", "gender"] == "M"
    assert set(properties["age"]) == {"30"}
