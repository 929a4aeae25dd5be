"""Which adapter reads which dataset format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kgstore.datasets.amazon_kg import load_amazon_kg, looks_like
from kgstore.datasets.canonical import CanonicalDataset, DatasetError
from kgstore.datasets.recbole import load_recbole
from kgstore.datasets.sequences import load_sequences
from kgstore.datasets.tables import TableColumns, load_tables
from kgstore.datasets.tables import looks_like as looks_like_tables

Loader = Callable[[Path, str | None], CanonicalDataset]

ADAPTERS: dict[str, Loader] = {
    "recbole": load_recbole,
    "amazon-kg": load_amazon_kg,
    "sequences": load_sequences,
    "table": load_tables,
}


def detect_format(path: Path) -> str:
    """The format a folder (or file) is in, from the files it holds: Amazon-KG (interactions
    and a v1 ``items_*.csv`` or ``item_metadata_*.csv``), RecBole atomic files (an
    ``.inter``), or user-item sequences (``.txt``)."""
    if looks_like_tables(path):
        return "table"
    if path.is_dir() and looks_like(path):
        return "amazon-kg"
    if path.is_dir() and any(path.glob("*.inter")):
        return "recbole"
    if path.suffix == ".txt" or any(path.glob("*.txt")):
        return "sequences"
    raise DatasetError(
        path,
        None,
        "cannot tell the format (no interactions.csv/.parquet, .inter, items_*.csv, "
        "item_metadata_*.csv or .txt file); "
        f"pass --format, one of {sorted(ADAPTERS)}",
    )


def load_dataset(
    path: Path,
    name: str | None = None,
    fmt: str | None = None,
    columns: TableColumns | None = None,
) -> CanonicalDataset:
    """The dataset at ``path`` in ``fmt`` (default: detected); ``columns`` names the
    columns of the table format."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(path, None, "no such file or folder")
    fmt = fmt or detect_format(path)
    if fmt not in ADAPTERS:
        raise DatasetError(path, None, f"unknown format {fmt!r}; choose from {sorted(ADAPTERS)}")
    if fmt == "table":
        return load_tables(path, name, columns)
    return ADAPTERS[fmt](path, name)
