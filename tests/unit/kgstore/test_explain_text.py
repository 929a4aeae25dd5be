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
