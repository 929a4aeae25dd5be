"""The neighbourhood text reads the same on every run."""

from __future__ import annotations

from kgstore.explain import NeighbourhoodItem, format_neighbourhood


def test_shared_attributes_are_ranked_by_count_then_name() -> None:
    def genre(name: str) -> dict[str, object]:
        return {"label": "Genre", "name": name, "id": name}

    items = [
        NeighbourhoodItem("i1", "One", 4.0, [genre("Drama"), genre("War")]),
        NeighbourhoodItem("i2", "Two", None, [genre("Western"), genre("Drama"), genre("Action")]),
    ]
    text = format_neighbourhood("u1", items, top=3)
    shared = [line.strip() for line in text.splitlines() if "(x" in line]
    assert shared == ["Genre: Drama  (x2)", "Genre: Action  (x1)", "Genre: War  (x1)"]


def test_unnamed_entities_are_described_by_relation_never_by_id() -> None:
    from kgstore.explain import GraphPath, describe

    unnamed = {"label": "Entity", "id": "m.09c7w0", "name": None, "relations": ["FILM_COUNTRY"]}
    assert describe(unnamed) == "unnamed entity (film country)"
    items = [
        NeighbourhoodItem("i1", "One", None, [unnamed, {**unnamed, "id": "m.2"}]),
        NeighbourhoodItem("i2", "Two", None, [unnamed]),
    ]
    text = format_neighbourhood("u1", items)
    assert "m.09c7w0" not in text and "m.2" not in text
    counts = [line.strip() for line in text.splitlines() if "(x" in line]
    assert counts == ["unnamed entity (film country)  (x2)", "unnamed entity (film country)  (x1)"]
    path = GraphPath(
        [{"label": "Item", "id": "i1", "name": "One"}, {"label": "Entity", "id": "m.1"}],
        ["FILM_COUNTRY"],
    )
    assert path.text() == "Item: One -FILM_COUNTRY- Entity (unnamed)"
