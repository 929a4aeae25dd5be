"""Every identifier slot of every Cypher statement refuses a value outside the allow-list."""

from __future__ import annotations

from importlib import resources

import pytest

from kgstore import queries
from kgstore.vocabulary import VocabularyError

VALID = {
    "label": "Item",
    "head": "User",
    "tail": "Item",
    "type": "INTERACTED",
    "types": "HAS_GENRE|INTERACTED",
    "property": "embedding",
}
HOSTILE = {
    "label": ["Item) DETACH DELETE n //", "Admin", "item"],
    "head": ["User)-[r]-() DELETE r //", "Nobody"],
    "tail": ["Item {id: 1}", "Nobody"],
    "type": ["HAS_GENRE]->() DETACH DELETE n //", "DROP"],
    "types": ["HAS_GENRE|DROP", "DROP|HAS_GENRE", "HAS_GENRE|", "HAS_GENRE|INTERACTED]"],
    "property": ["title", "embedding} SET n.x = 1 //", "persona_staged2"],
}


def statements() -> list[str]:
    found = []
    root = resources.files("cypher")
    for folder in root.iterdir():
        if folder.is_dir() and not folder.name.startswith("_"):
            for item in folder.iterdir():
                if item.name.endswith(".cypher"):
                    found.append(f"{folder.name}/{item.name.removesuffix('.cypher')}")
    return sorted(found)


SLOTTED = [(name, slot) for name in statements() for slot in sorted(queries.slots(name))]


def test_every_slot_has_a_check_and_the_statements_render() -> None:
    assert SLOTTED, "no statement with identifier slots was found"
    for name in statements():
        needed = queries.slots(name)
        assert needed <= set(VALID), (name, needed)
        text = queries.render(name, **{slot: VALID[slot] for slot in needed})
        assert "{{" not in text


@pytest.mark.parametrize(("name", "slot"), SLOTTED)
def test_a_value_outside_the_allow_list_is_refused(name: str, slot: str) -> None:
    needed = queries.slots(name)
    for value in HOSTILE[slot]:
        values = {s: VALID[s] for s in needed} | {slot: value}
        with pytest.raises(VocabularyError):
            queries.render(name, **values)
