from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from unittest.mock import MagicMock

import neo4j
import pytest

from kgstore import queries
from kgstore.vocabulary import (
    FREEBASE_RELATIONS,
    RELATIONSHIP_TYPES,
    Label,
    VocabularyError,
    check_label,
    check_relationship_type,
    check_vector_property,
)

INJECTIONS = ["User) DETACH DELETE n //", "Item`:Admin", "User {x:1}", "", "user", "HAS_GENRE]-()"]


def all_statements() -> list[str]:
    names = []
    root = resources.files("cypher")
    for folder in root.iterdir():
        if folder.is_dir() and not folder.name.startswith("_"):
            names += [
                f"{folder.name}/{f.name[:-7]}"
                for f in folder.iterdir()
                if f.name.endswith(".cypher")
            ]
    return sorted(names)


@pytest.mark.parametrize("value", INJECTIONS)
def test_identifiers_outside_the_allow_list_are_refused(value: str) -> None:
    with pytest.raises(VocabularyError):
        check_label(value)
    with pytest.raises(VocabularyError):
        check_relationship_type(value)
    with pytest.raises(VocabularyError):
        check_vector_property(value)


def test_every_allowed_identifier_is_a_plain_identifier() -> None:
    for value in [*Label, *RELATIONSHIP_TYPES]:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", value)
    for label in Label:
        assert check_label(label) == label
    for relationship_type in RELATIONSHIP_TYPES:
        assert check_relationship_type(relationship_type) == relationship_type
        if relationship_type not in set(Label):
            with pytest.raises(VocabularyError):
                check_label(relationship_type)


def test_freebase_mapping_targets_are_allowed_and_distinct() -> None:
    targets = list(FREEBASE_RELATIONS.values())
    assert len(targets) == len(set(targets))
    for target in targets:
        assert check_relationship_type(target) == target


def test_render_fills_slots_from_the_allow_list() -> None:
    text = queries.render("load/create_relationships", head="Item", type="HAS_GENRE", tail="Genre")
    assert "MATCH (h:Item)" in text and "CREATE (h)-[:HAS_GENRE]->(t)" in text
    assert "{{" not in text


def test_render_refuses_a_bad_identifier_before_building_the_text() -> None:
    with pytest.raises(VocabularyError):
        queries.render("load/upsert_nodes", label="Item) DETACH DELETE n //")
    with pytest.raises(VocabularyError):
        queries.render("load/create_relationships", head="Item", type="DROP", tail="Genre")


def test_render_requires_exactly_the_statement_slots() -> None:
    with pytest.raises(KeyError):
        queries.render("load/upsert_nodes")
    with pytest.raises(KeyError):
        queries.render("load/upsert_nodes", label="Item", type="HAS_GENRE")


def test_unknown_statement_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        queries.load("load/no_such_statement")


@pytest.mark.parametrize("name", all_statements())
def test_every_statement_uses_only_known_slots_and_parameters(name: str) -> None:
    text = queries.load(name)
    assert queries.slots(name) <= {"label", "head", "tail", "type", "types", "property"}
    # Values are parameters: no string literals except fixed option names.
    code = "\n".join(line.split("//")[0] for line in text.splitlines())
    literals = re.findall(r"'([^']*)'", code)
    assert set(literals) <= {"cosine"}, literals
    if name.startswith("load/") and name != "load/delete_label":
        # Either scoped to the dataset, or addressing nodes only by element ids that were
        # read for the dataset (load/element_ids).
        assert "$dataset" in text or ("elementId(" in text and "MATCH (" in text)


@pytest.mark.parametrize(
    "name", [n for n in all_statements() if "WHERE elementId(" in queries.load(n)]
)
def test_element_id_writes_carry_no_predicate_that_could_replace_the_id_seek(name: str) -> None:
    code = "\n".join(line.split("//")[0] for line in queries.load(name).splitlines())
    assert ".dataset" not in code and ".id " not in code


@pytest.mark.parametrize(
    "name", ["../x", "..", "a/b", "ml-100k/../../etc", "", " ml", "x" * 129, ".hidden", "a\nb"]
)
def test_names_that_could_leave_their_folder_are_refused(name: str) -> None:
    from kgstore.graph import Graph
    from kgstore.splits import split_path
    from kgstore.vocabulary import check_name

    with pytest.raises(VocabularyError):
        check_name(name)
    with pytest.raises(VocabularyError):
        split_path(Path("home"), name)
    with pytest.raises(VocabularyError):
        Graph(MagicMock(spec=neo4j.Driver), "neo4j", name)


@pytest.mark.parametrize("name", ["ml-100k", "amazon-kg-books", "test-0b5c94528e", "gen-0.5m"])
def test_ordinary_names_are_accepted(name: str) -> None:
    from kgstore.vocabulary import check_name

    assert check_name(name) == name
