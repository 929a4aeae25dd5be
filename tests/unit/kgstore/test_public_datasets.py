"""The adapters on the real public datasets (no database): counts match the sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgstore.datasets import load_dataset


def test_ml_100k(datasets_dir: Path) -> None:
    data = load_dataset(datasets_dir / "ml-100k")
    assert len(data.interactions) == 100_000
    assert (len(data.users), len(data.items)) == (943, 1_682)
    kg = data.triples[data.triples["type"] != "HAS_GENRE"]
    assert len(kg) == 91_631  # every .kg triple, typed
    assert data.items["entity"].notna().sum() == 1_598
    counts = data.interactions["split"].value_counts()
    assert counts["test"] == counts["valid"] == 943


def test_amazon_kg_books(datasets_dir: Path) -> None:
    data = load_dataset(datasets_dir / "amazon-kg-books")
    assert len(data.interactions) == 115_572
    assert data.interactions["user"].nunique() == 10_485
    assert data.interactions["item"].nunique() == 8_318
    assert data.items["entity"].notna().sum() == 8_696
    assert set(data.triples["type"]) == {"IN_CATEGORY", "HAS_RESOURCE"}
    # 77,608 neighbour entries = typed edges + collapsed duplicates + web addresses.
    urls = int(data.items["urls"].dropna().map(len).sum())
    assert len(data.triples) + 244 + urls == 77_608


def test_beauty(datasets_dir: Path) -> None:
    data = load_dataset(datasets_dir / "beauty")
    assert len(data.interactions) == 198_502
    assert (len(data.users), data.interactions["item"].nunique()) == (22_363, 12_101)
    assert set(data.entities["label"]) == {"Attribute"}


@pytest.mark.parametrize("name", ["ml-100k", "amazon-kg-books", "beauty"])
def test_test_items_are_last(name: str, datasets_dir: Path) -> None:
    data = load_dataset(datasets_dir / name)
    inter = data.interactions
    order = (
        ["user", "timestamp", "position"]
        if inter["timestamp"].notna().all()
        else ["user", "position"]
    )
    last = inter.sort_values(order, kind="stable").groupby("user").tail(1)
    assert (last["split"] == "test").all()
