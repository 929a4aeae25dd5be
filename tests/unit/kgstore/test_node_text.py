from __future__ import annotations

from kgstore.node_text import item_text, name_text, readable_title, text_hash
from kgstore.vocabulary import readable_relation


def test_titles_read_naturally() -> None:
    assert readable_title("Godfather, The") == "The Godfather"
    assert readable_title("Englishman Who Went Up a Hill, But Came Down a Mountain, The") == (
        "The Englishman Who Went Up a Hill, But Came Down a Mountain"
    )
    assert readable_title("Toy  Story") == "Toy Story"


def test_item_text_combines_title_description_and_named_attributes() -> None:
    text = item_text(
        "Godfather, The",
        " A mafia  family saga. ",
        [
            ("Genre", "Crime"),
            ("Genre", "Drama"),
            ("Genre", "Crime"),
            ("Entity", "m.0abc"),
            ("Category", "1972 films"),
        ],
    )
    assert text == (
        "The Godfather. A mafia family saga. Genres: Crime, Drama. Categories: 1972 films."
    )


def test_items_without_title_use_their_attributes_and_may_have_no_text() -> None:
    assert item_text(None, None, [("Resource", "Ernest Hemingway")]) == (
        "Related: Ernest Hemingway."
    )
    assert item_text("  ", None, [("Entity", "m.1")]) is None
    assert item_text("", "", []) is None


def test_attributes_are_capped_per_kind() -> None:
    text = item_text("X", None, [("Category", f"C{i}") for i in range(30)])
    assert text is not None and text.count(", ") == 11


def test_names_and_relations_and_hashes() -> None:
    assert name_text("  Novels set in  Ontario ") == "Novels set in Ontario"
    assert name_text(None) is None and name_text(" ") is None
    assert readable_relation("FILM_DIRECTED_BY") == "film directed by"
    assert readable_relation("INTERACTED") == "interacted with"
    assert text_hash("m", "t") == text_hash("m", "t")
    assert text_hash("m", "t") != text_hash("m2", "t") != text_hash("m", "t2")
