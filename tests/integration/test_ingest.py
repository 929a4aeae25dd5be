"""Ingestion into the real Neo4j on small generated data: counts, idempotence, resume,
injection safety, no test-split leakage, schema."""

from __future__ import annotations

from pathlib import Path

import neo4j
import pandas as pd
import pytest

from kgstore.datasets.canonical import CanonicalDataset
from kgstore.datasets.split import leave_one_out
from kgstore.graph import Database, Graph
from kgstore.ingest import IngestError
from kgstore.splits import load_split
from kgstore.stats import graph_counts
from tests.integration.helpers import new_ingestor

INJECTION = "Robert'); MATCH (n) DETACH DELETE n; //\" } RETURN 1 // `x`"


def generated(name: str, users: int = 30, items: int = 40, per_user: int = 8) -> CanonicalDataset:
    rows = []
    for u in range(users):
        for k in range(per_user):
            rows.append((f"u{u}", f"i{(u * 7 + k * 3) % items}", float(k % 5 + 1), float(k)))
    interactions = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    interactions["position"] = range(len(interactions))
    titles = [INJECTION if i == 0 else f"Item {i}" for i in range(items)]
    genres = ["Drama", "Comedy", "Noir"]
    triples = pd.DataFrame(
        [(f"i{i}", "Item", "HAS_GENRE", genres[i % 3], "Genre") for i in range(items)]
        + [(f"i{i}", "Item", "FILM_SEQUEL", f"i{i + 1}", "Item") for i in range(0, items - 1, 5)],
        columns=["head", "head_label", "type", "tail", "tail_label"],
    )
    return CanonicalDataset(
        name=name,
        interactions=leave_one_out(interactions),
        users=pd.DataFrame({"id": [f"u{u}" for u in range(users)], "age": 30}),
        items=pd.DataFrame({"id": [f"i{i}" for i in range(items)], "title": titles}),
        entities=pd.DataFrame({"id": genres, "label": "Genre", "name": genres}),
        triples=triples,
    )


def counts(graph: Graph) -> tuple[dict, dict]:  # type: ignore[type-arg]
    return graph_counts(graph)


def test_counts_match_and_a_second_run_changes_nothing(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    data = generated(namespace)
    ingestor = new_ingestor(db, tmp_path, batch_size=37)
    first = ingestor.ingest(data)
    assert counts(graph) == data.expected_counts()
    second = ingestor.ingest(data)
    assert all(phase.skipped for phase in second.phases)
    assert counts(graph) == data.expected_counts()
    # Forcing every phase through MERGE must not duplicate anything either.
    ingestor.ingest(data, force=True)
    assert counts(graph) == data.expected_counts()
    assert not any(phase.skipped for phase in first.phases)


def test_a_run_interrupted_mid_phase_resumes_without_duplicates(
    db: Database, graph: Graph, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = generated(namespace)
    ingestor = new_ingestor(db, tmp_path, batch_size=25)
    original = Graph.write_rows
    calls = {"batches": 0}

    def dies_mid_interactions(self, statement, batches, total, desc, **kwargs):  # type: ignore[no-untyped-def]
        if "INTERACTED" in desc:
            # Write the first two batches, then die as a killed process would.
            original(self, statement, list(batches)[:2], total, desc, **kwargs)
            calls["batches"] += 2
            raise KeyboardInterrupt
        return original(self, statement, batches, total, desc, **kwargs)

    monkeypatch.setattr(Graph, "write_rows", dies_mid_interactions)
    with pytest.raises(KeyboardInterrupt):
        ingestor.ingest(data)
    _, partial_rels = counts(graph)
    assert 0 < partial_rels["INTERACTED"] < data.expected_counts()[1]["INTERACTED"]

    monkeypatch.setattr(Graph, "write_rows", original)
    report = ingestor.ingest(data)
    redone = [p.phase for p in report.phases if not p.skipped]
    assert redone == ["rel:User-INTERACTED-Item"]
    assert counts(graph) == data.expected_counts()


def test_injection_in_a_title_is_stored_verbatim_and_runs_nothing(
    db: Database, graph: Graph, driver: neo4j.Driver, database: str, namespace: str, tmp_path: Path
) -> None:
    data = generated(namespace)
    new_ingestor(db, tmp_path).ingest(data)
    records, _, _ = driver.execute_query(
        "MATCH (i:Item {dataset: $d, id: 'i0'}) RETURN i.title AS title",
        d=namespace,
        database_=database,
    )
    assert records[0]["title"] == INJECTION
    assert counts(graph) == data.expected_counts()


def test_test_split_interactions_are_absent_from_the_graph(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    data = generated(namespace)
    new_ingestor(db, tmp_path).ingest(data)
    assert_no_heldout_edges(graph, data)
    recorded = load_split(tmp_path, namespace)
    pd.testing.assert_series_equal(
        recorded["split"].reset_index(drop=True), data.interactions["split"].reset_index(drop=True)
    )


def assert_no_heldout_edges(graph: Graph, data: CanonicalDataset) -> None:
    """Every valid/test pair not also seen in training has no INTERACTED edge."""
    inter = data.interactions
    train_pairs = set(
        zip(*(inter.loc[inter["split"] == "train", c] for c in ("user", "item")), strict=True)
    )
    heldout = inter[inter["split"] != "train"]
    pairs = [
        [u, i]
        for u, i in zip(heldout["user"], heldout["item"], strict=True)
        if (u, i) not in train_pairs
    ]
    assert pairs, "the data must hold held-out pairs for this check to mean anything"
    records = graph.read_text(
        "UNWIND $pairs AS p MATCH (:User {dataset: $dataset, id: p[0]})-[r:INTERACTED]->"
        "(:Item {dataset: $dataset, id: p[1]}) RETURN count(r) AS leaked",
        pairs=pairs,
    )
    assert records[0]["leaked"] == 0
    records = graph.read_text(
        "UNWIND $pairs AS p MATCH (:User {dataset: $dataset, id: p[0]})-[r:INTERACTED]->"
        "(:Item {dataset: $dataset, id: p[1]}) RETURN count(r) AS present",
        pairs=[[u, i] for u, i in list(train_pairs)[:50]],
    )
    assert records[0]["present"] == min(50, len(train_pairs))


def test_a_changed_dataset_is_not_mixed_with_the_old_one(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    ingestor = new_ingestor(db, tmp_path)
    ingestor.ingest(generated(namespace))
    with pytest.raises(IngestError, match="different version"):
        ingestor.ingest(generated(namespace, users=31))
    ingestor.drop(namespace)
    assert counts(graph) == ({}, {})


def test_schema_constraints_and_vector_indexes_exist(
    db: Database, driver: neo4j.Driver, database: str, namespace: str, tmp_path: Path
) -> None:
    new_ingestor(db, tmp_path).ingest(generated(namespace))
    records, _, _ = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name RETURN collect(name) AS n", database_=database
    )
    assert {"Item_key", "User_key", "Genre_key"} <= set(records[0]["n"])
    records, _, _ = driver.execute_query(
        "SHOW VECTOR INDEXES YIELD name, state, options "
        "RETURN name, state, options.indexConfig.`vector.dimensions` AS dim",
        database_=database,
    )
    found = {r["name"]: r["dim"] for r in records}
    assert found["Item_embedding"] == 384 and found["User_persona"] == 64
    with pytest.raises(neo4j.exceptions.ConstraintError):
        driver.execute_query(
            "CREATE (:Item {dataset: $d, id: 'i1'})", d=namespace, database_=database
        )


def _folders(root: Path) -> dict[str, Path]:
    """Small datasets in each format, written as a user's export would be."""
    inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + "".join(
        f"u{u}\ti{(u * 3 + k) % 12}\t{k % 5 + 1}\t{k}\n" for u in range(8) for k in range(5)
    )
    shop = root / "shop"
    shop.mkdir()
    (shop / "export.inter").write_text(inter)
    (shop / "export.item").write_text(
        "item_id:token\ttitle:token_seq\tgenre:token_seq\n"
        + "".join(f"i{i}\tThing {i}\t{'Red' if i % 2 else 'Blue'}\n" for i in range(12))
    )
    toys = root / "toys"
    toys.mkdir()
    (toys / "Amazon-KG-5core-Toys.inter").write_text(inter)
    (toys / "Amazon-KG-5core-Toys.link").write_text(
        "item_id:token\tentity_id:token\ni1\tres:Lego\ni2\tres:Teddy_bear\n"
    )
    (toys / "items_Toys.csv").write_text("iid\ttitle\turi\ni1\tLego.*Set\tx\ni3\tKite\ty\n")
    garden = root / "garden"  # another domain, with the metadata file and no titles
    garden.mkdir()
    (garden / "Amazon-KG-5core-Patio_Lawn_and_Garden.inter").write_text(inter)
    (garden / "Amazon-KG-5core-Patio_Lawn_and_Garden.link").write_text(
        "item_id:token\tentity_id:token\ni1\tres:Lawn_mower\ni2\tres:Rake\n"
    )
    (garden / "item_metadata_Patio_Lawn_and_Garden.csv").write_text(
        "iid\tmetadata\ni1\tcat:Tools\tres:Lawn_mower\ni4\tcat:Tools\thttp://example.org\n"
    )
    seqs = root / "seqs"
    seqs.mkdir()
    (seqs / "Seqs.txt").write_text(
        "".join(f"{u} " + " ".join(str((u + k) % 9 + 1) for k in range(4)) + "\n" for u in range(6))
    )
    from tests.unit.kgstore.test_tables import shop as table_export

    plain = root / "plain"
    plain.mkdir()
    (plain / "interactions.csv").write_text(
        "user,item\n" + "".join(f"u{u},i{(u + k) % 7}\n" for u in range(6) for k in range(4))
    )
    return {
        "recbole": shop,
        "amazon-kg": toys,
        "amazon-kg-meta": garden,
        "sequences": seqs,
        "table": table_export(root, ".csv"),
        "table-parquet": table_export(root, ".parquet"),
        "table-plain": plain,
        "table-items": table_export(_subfolder(root, "items-only"), ".csv", triples=False),
        "table-triples": table_export(_subfolder(root, "triples-only"), ".parquet", items=False),
    }


def _subfolder(root: Path, name: str) -> Path:
    (root / name).mkdir()
    return root / name


def test_inspect_counts_what_ingest_writes_in_every_format(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import uuid

    from kgstore.datasets import load_dataset
    from recommender.cli import main

    ingestor = new_ingestor(db, tmp_path)
    for fmt, folder in _folders(tmp_path).items():
        assert main(["inspect", str(folder), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        family = fmt.partition("-")[0]
        assert report["format"] == {"amazon": "amazon-kg"}.get(family, family)
        name = f"test-{fmt}-{uuid.uuid4().hex[:6]}"
        try:
            ingestor.ingest(load_dataset(folder, name=name))
            nodes, relationships = counts(db.graph(name))
            assert (nodes, relationships) == (report["nodes"], report["relationships"]), fmt
            titled = db.graph(name).read_text(
                "MATCH (i:Item {dataset: $dataset}) WHERE i.title IS NOT NULL RETURN i.id AS id"
            )
            expected = {"recbole": 12, "amazon-kg": 3, "amazon-kg-meta": 2, "sequences": 0,
                        "table": 6,
                        "table-parquet": 6, "table-plain": 0, "table-items": 6,
                        "table-triples": 0}[fmt]  # fmt: skip
            assert (
                len(titled) == expected == report["nodes"]["Item"] - report["items_without_title"]
            )
        finally:
            ingestor.drop(name)


def test_inspect_exits_2_with_the_file_and_line_of_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recommender.cli import main

    folder = _folders(tmp_path)["recbole"]
    with (folder / "export.inter").open("a") as handle:
        handle.write("u1\ti1\tfive\t9\n")
    assert main(["inspect", str(folder)]) == 2
    assert "export.inter:42: rating 'five' is not a number" in capsys.readouterr().err
