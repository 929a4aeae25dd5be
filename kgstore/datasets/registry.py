"""Which adapter reads which dataset format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kgstore.datasets.amazon_kg import load_amazon_kg
from kgstore.datasets.canonical import CanonicalDataset, DatasetError
from kgstore.datasets.recbole import load_recbole
from kgstore.datasets.sequences import load_sequences

Loader = Callable[[Path, str | None], CanonicalDataset]

ADAPTERS: dict[str, Loader] = {
    "recbole": load_recbole,
    "amazon-kg": load_amazon_kg,
    "sequences": load_sequences,
}

# The public datasets this project is developed on, by folder name.
KNOWN_FORMATS = {"ml-100k": "recbole", "amazon-kg-books": "amazon-kg", "beauty": "sequences"}


def detect_format(path: Path) -> str:
    if path.name in KNOWN_FORMATS:
        return KNOWN_FORMATS[path.name]
    if (path / f"{path.name}.inter").exists():
        return "recbole"
    if any(path.glob("*.inter")) and any(path.glob("item_metadata_*.csv")):
        return "amazon-kg"
    if path.suffix == ".txt" or any(path.glob("*.txt")):
        return "sequences"
    raise DatasetError(path, None, f"cannot tell the format; pass one of {sorted(ADAPTERS)}")


def load_dataset(path: Path, name: str | None = None, fmt: str | None = None) -> CanonicalDataset:
    path = Path(path)
    if not path.exists():
        raise DatasetError(path, None, "no such file or folder")
    fmt = fmt or detect_format(path)
    if fmt not in ADAPTERS:
        raise DatasetError(path, None, f"unknown format {fmt!r}; choose from {sorted(ADAPTERS)}")
    return ADAPTERS[fmt](path, name)
