"""The generic table format (CSV and Parquet), without a database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kgstore.datasets import DatasetError, load_dataset
from kgstore.datasets.registry import detect_format
from kgstore.datasets.tables import TableColumns
from kgstore.vocabulary import VocabularyError, check_relationship_type, generated_relationship_type

LONG = "A long description of this item, written by the shop for its customers."


def shop(root: Path, suffix: str = ".csv", items: bool = True, triples: bool = True) -> Path:
    """A user's export: interactions, items (title, text, two categorical columns, a
    number), triples with names; in CSV or Parquet."""
    folder = root / f"shop{suffix.replace('.', '-')}"
    folder.mkdir()
    frames = {
        "interactions": pd.DataFrame(
            [
                (f"c{u}", f"p{(u + k) % 6}", 1_700_000_000 + 60 * k, k % 5 + 1)
                for u in range(5)
                for k in range(4)
            ],
            columns=["user", "item", "timestamp", "rating"],
        ),
    }
    if items:
        frames["items"] = pd.DataFrame(
            {
                "item": [f"p{i}" for i in range(6)],
                "title": [f"Product {i}" for i in range(6)],
                "about": [LONG] * 6,
                "brand": ["Acme", "Acme", "Zeta", None, "Zeta", "Acme"],
                "colour": ["red", "blue", "red", "red", "green", "blue"],
                "price": ["9.5", "3", "4", "5", "6", "7"],
            }
        )
    if triples:
        frames["triples"] = pd.DataFrame(
            {
                "head": ["p0", "p1", "p0", "p2"],
                "relation": ["made by", "made by", "similar to", "made in"],
                "tail": ["f1", "f1", "p1", "Q30"],
                "tail_name": ["Factory One", "Factory One", None, "United States"],
            }
        )
    for stem, frame in frames.items():
        path = folder / f"{stem}{suffix}"
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
    return folder


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_shop_export_loads_in_csv_and_parquet(tmp_path: Path, suffix: str) -> None:
    folder = shop(tmp_path, suffix)
    assert detect_format(folder) == "table"
    data = load_dataset(folder)
    assert len(data.interactions) == 20 and set(data.interactions["split"]) == {
        "train", "valid", "test"
    }  # fmt: skip
    items = data.items.set_index("id")
    assert items.loc["p2", "title"] == "Product 2"
    assert items.loc["p2", "description"] == LONG  # the free-text column
    assert items.loc["p0", "price"] == "9.5"  # kept as a property
    types = set(data.triples["type"])
    assert types == {"REL_BRAND", "REL_COLOUR", "REL_MADE_BY", "REL_SIMILAR_TO", "REL_MADE_IN"}
    attributes = data.entities[data.entities["label"] == "Attribute"].set_index("id")
    assert attributes.loc["brand:Acme", "name"] == "Acme"
    entities = data.entities[data.entities["label"] == "Entity"].set_index("id")
    assert entities.loc["f1", "name"] == "Factory One" and entities.loc["Q30", "name"] == (
        "United States"
    )
    similar = data.triples[data.triples["type"] == "REL_SIMILAR_TO"].iloc[0]
    assert (similar["head_label"], similar["tail_label"]) == ("Item", "Item")
    nodes, relationships = data.expected_counts()
    assert nodes["Attribute"] == 5 and relationships["REL_BRAND"] == 5


def test_interactions_alone_and_other_column_names(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "interactions.csv").write_text(
        "customer_id,sku,ts\n" + "".join(f"u{u},i{k},{k}\n" for u in range(3) for k in range(4))
    )
    columns = TableColumns(user="customer_id", item="sku", timestamp="ts")
    data = load_dataset(folder, columns=columns)
    assert len(data.items) == 4 and data.items["title"].isna().all()
    assert any("no items file" in note for note in data.notes)
    with pytest.raises(DatasetError, match=r"interactions.csv:1: missing column\(s\) user, item"):
        load_dataset(folder)


def test_hostile_tables_are_refused_with_file_and_line(tmp_path: Path) -> None:
    folder = shop(tmp_path, items=False, triples=False)
    (folder / "items.csv").write_text("item,title,dataset\np0,A,other-namespace\n")
    with pytest.raises(DatasetError, match=r"items.csv:1: column 'dataset' is reserved"):
        load_dataset(folder, columns=TableColumns(categories=()))
    (folder / "items.csv").write_text("item,title\np0,A\np0,B\n")
    with pytest.raises(DatasetError, match=r"items.csv:3: item 'p0' appears twice"):
        load_dataset(folder)
    (folder / "items.csv").unlink()
    (folder / "triples.csv").write_text("head,relation,tail\np0,`]->() DETACH DELETE n //,x\n")
    data = load_dataset(folder)  # sanitised into the generated shape, never interpolated raw
    assert list(data.triples["type"]) == ["REL_DETACH_DELETE_N"]
    (folder / "triples.csv").write_text("head,relation,tail\np0,!!!,x\n")
    with pytest.raises(DatasetError, match="cannot become a relationship type"):
        load_dataset(folder)
    (folder / "triples.csv").unlink()
    with (folder / "interactions.csv").open("a") as handle:
        handle.write(",p1,5,5\n")
    with pytest.raises(DatasetError, match=r"interactions.csv:22: empty user"):
        load_dataset(folder)


def test_iso_times_other_separators_and_a_byte_order_mark(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    # Semicolons, Windows line ends, a byte order mark, ISO dates, times and a zone: u2's
    # last item by time (i2, 7 January) is third in the file.
    rows = [
        "user;item;timestamp",
        "u1;i1;2024-01-01T10:00:00",
        "u1;i2;2024-01-02 09:00",
        "u1;i3;2024-01-03",
        "u2;i1;2024-01-01T00:00:00+02:00",
        "u2;i2;2024-01-07",
        "u2;i3;2024-01-05",
    ]
    (folder / "interactions.csv").write_bytes("\r\n".join(rows).encode("utf-8-sig"))
    data = load_dataset(folder)
    test = data.interactions[data.interactions["split"] == "test"].set_index("user")["item"]
    assert test.to_dict() == {"u1": "i3", "u2": "i2"}
    times = data.interactions.set_index(["user", "item"])["timestamp"]
    assert times[("u1", "i3")] == 1704240000.0  # 2024-01-03T00:00:00Z
    assert times[("u2", "i1")] == 1704060000.0  # midnight at +02:00 is 22:00 UTC the day before
    (folder / "interactions.csv").write_text("user\titem\ttimestamp\nu1\ti1\t3\nu1\ti2\t1\n")
    tabbed = load_dataset(folder).interactions
    assert list(tabbed["item"]) == ["i1", "i2"] and list(tabbed["timestamp"]) == [3.0, 1.0]


def test_exports_that_would_mislead_are_refused_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    inter = folder / "interactions.csv"
    inter.write_text("user,item,timestamp\nu1,i1,1\nu1,i2,\nu1,i3,3\n")
    with pytest.raises(DatasetError, match=r"interactions.csv:3: empty timestamp: every"):
        load_dataset(folder)
    inter.write_text("user,item,timestamp\nu1,i1,1700000000\nu1,i2,yesterday\n")
    with pytest.raises(DatasetError, match=r"csv:3: timestamp 'yesterday' is not a number"):
        load_dataset(folder)
    inter.write_text("user,item,timestamp\nu1,i1,2024-01-01\nu1,i2,yesterday\n")
    with pytest.raises(DatasetError, match=r"csv:3: timestamp 'yesterday' is neither a number"):
        load_dataset(folder)
    inter.write_text("user,item\n")
    with pytest.raises(DatasetError, match="no interactions"):
        load_dataset(folder)
    inter.write_text("user,item\nu1,i1\n")
    (folder / "items.csv").write_bytes("item,title\ni1,Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"items.csv: not UTF-8 text \(byte 17\); save it as"):
        load_dataset(folder)


def test_generated_relationship_types_have_one_safe_shape() -> None:
    assert generated_relationship_type("directed by") == "REL_DIRECTED_BY"
    assert generated_relationship_type("film.film.country") == "REL_FILM_FILM_COUNTRY"
    assert check_relationship_type("REL_X1") == "REL_X1"
    for bad in ("DROP", "REL_", "REL_a", "REL_X|DROP", "REL_X`", "REL__X", "REL_" + "X" * 60):
        with pytest.raises(VocabularyError):
            check_relationship_type(bad)
    with pytest.raises(VocabularyError):
        generated_relationship_type("x" * 100)


def test_generated_types_read_as_their_words() -> None:
    from kgstore.vocabulary import readable_relation

    assert readable_relation(generated_relationship_type("made by")) == "made by"
    assert readable_relation("FILM_COUNTRY") == "film country"
