from __future__ import annotations

from pathlib import Path
from unittest.mock import MagicMock

import neo4j
import pandas as pd
import pytest

from kgstore.datasets.canonical import CanonicalDataset
from kgstore.datasets.split import leave_one_out
from kgstore.graph import Database
from kgstore.ingest import Ingestor, fingerprint
from kgstore.schema import SchemaError, apply_schema
from kgstore.vocabulary import Label, VocabularyError


def tiny(entity_label: str = "Genre", relation: str = "HAS_GENRE") -> CanonicalDataset:
    interactions = pd.DataFrame(
        {
            "user": ["u"] * 3,
            "item": ["a", "b", "c"],
            "rating": 1.0,
            "timestamp": [1.0, 2.0, 3.0],
            "position": [0, 1, 2],
        }
    )
    return CanonicalDataset(
        name="tiny",
        interactions=leave_one_out(interactions),
        users=pd.DataFrame({"id": ["u"]}),
        items=pd.DataFrame({"id": ["a", "b", "c"], "title": ["A", "B", "C"]}),
        entities=pd.DataFrame({"id": ["g"], "label": [entity_label], "name": ["G"]}),
        triples=pd.DataFrame(
            [("a", "Item", relation, "g", entity_label)],
            columns=["head", "head_label", "type", "tail", "tail_label"],
        ),
    )


@pytest.mark.parametrize(
    ("label", "relation"),
    [
        ("Genre) DETACH DELETE n //", "HAS_GENRE"),
        ("Genre", "HAS_GENRE]->() DETACH DELETE n //"),
        ("Admin", "HAS_GENRE"),
    ],
)
def test_identifiers_outside_the_allow_list_stop_ingest_before_any_query(
    label: str, relation: str, tmp_path: Path
) -> None:
    driver = MagicMock(spec=neo4j.Driver)
    with pytest.raises(VocabularyError):
        Ingestor(Database(driver, "neo4j"), tmp_path, 384, 64).ingest(tiny(label, relation))
    driver.execute_query.assert_not_called()
    driver.session.assert_not_called()


def test_batch_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Ingestor(Database(MagicMock(spec=neo4j.Driver), "neo4j"), tmp_path, 384, 64, batch_size=0)


def test_fingerprint_changes_with_content() -> None:
    data = tiny()
    changed = tiny()
    changed.items.loc[0, "title"] = "A, revised"
    assert fingerprint(data) == fingerprint(tiny())
    assert fingerprint(data) != fingerprint(changed)


def test_schema_refuses_a_vector_index_of_another_dimension() -> None:
    driver = MagicMock(spec=neo4j.Driver)
    record = {"dimensions": 768}
    driver.execute_query.return_value = ([record], None, None)
    with pytest.raises(SchemaError, match="dimension 768, configuration says 384"):
        apply_schema(Database(driver, "neo4j"), embedding_dim=384, persona_dim=64)


def test_schema_refuses_silly_dimensions() -> None:
    with pytest.raises(SchemaError):
        db = Database(MagicMock(spec=neo4j.Driver), "neo4j")
        apply_schema(db, embedding_dim=0, persona_dim=64)


def test_drop_deletes_the_dataset_node_last(tmp_path: Path) -> None:
    driver = MagicMock(spec=neo4j.Driver)
    session = driver.session.return_value.__enter__.return_value
    Ingestor(Database(driver, "neo4j"), tmp_path, 384, 64).drop("toy")
    statements = [call.args[0] for call in session.run.call_args_list]
    assert len(statements) == len(Label)
    assert statements[-1].startswith("MATCH (n:Dataset {dataset: $dataset})")
    assert all(":Dataset" not in text for text in statements[:-1])
    assert all(call.kwargs["dataset"] == "toy" for call in session.run.call_args_list)
