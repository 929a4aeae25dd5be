from __future__ import annotations

from pathlib import Path

import neo4j
import pytest

from kgstore.explain import format_neighbourhood, user_neighbourhood
from kgstore.graph import Database, Graph
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import generated


def test_user_neighbourhood_lists_training_items_and_their_attributes(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    data = generated(namespace)
    new_ingestor(db, tmp_path).ingest(data)
    items = user_neighbourhood(graph, "u1", max_items=50)
    inter = data.interactions
    train = inter[(inter["user"] == "u1") & (inter["split"] == "train")]
    assert {entry.item for entry in items} == set(train["item"])
    by_item = train.set_index("item")["position"]
    positions = [int(by_item[e.item]) for e in items]
    assert positions == sorted(positions, reverse=True)  # most recent first
    for entry in items:
        labels = {a["label"] for a in entry.attributes}
        assert "Genre" in labels
        assert not labels & {"User", "Dataset"}
    text = format_neighbourhood("u1", items)
    assert "most shared attributes" in text and "Genre:" in text


def test_unknown_user_has_an_empty_neighbourhood(graph: Graph) -> None:
    assert user_neighbourhood(graph, "nobody") == []
    assert "no training interactions" in format_neighbourhood("nobody", [])


def test_explain_runs_in_a_read_transaction(
    db: Database, driver: neo4j.Driver, database: str, namespace: str, tmp_path: Path
) -> None:
    """The explanation statement passes where the server refuses any write (READ mode)."""
    from kgstore import queries

    new_ingestor(db, tmp_path).ingest(generated(namespace))
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        rows = session.execute_read(
            lambda tx: tx.run(
                queries.load("explain/user_neighbourhood"),
                dataset=namespace,
                user="u2",
                max_items=5,
                max_attributes=3,
            ).data()
        )
    assert 0 < len(rows) <= 5
    read_mode = driver.session(database=database, default_access_mode=neo4j.READ_ACCESS)
    with read_mode as session, pytest.raises(neo4j.exceptions.ClientError, match="read access"):
        session.execute_read(
            lambda tx: tx.run("CREATE (:Item {dataset: $d, id: 'w'})", d=namespace).consume()
        )


def test_paths_connect_a_user_to_an_item_through_the_graph(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    from kgstore.explain import user_item_paths

    data = generated(namespace)
    new_ingestor(db, tmp_path).ingest(data)
    inter = data.interactions
    seen = set(inter.loc[(inter["user"] == "u1") & (inter["split"] == "train"), "item"])
    target = next(i for i in sorted(data.items["id"]) if i not in seen)
    paths = user_item_paths(graph, "u1", target, k=3)
    assert 0 < len(paths) <= 3
    for path in paths:
        assert path.nodes[0]["id"] == "u1" and path.nodes[-1]["id"] == target
        assert path.types[0] == "INTERACTED" and len(path.types) == len(path.nodes) - 1
        assert path.text().startswith("user u1 -INTERACTED- Item: ")
    assert user_item_paths(graph, "u1", "no-such-item") == []
