"""The recorded train/valid/test split, so later stages cannot leak test items."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from kgstore.datasets.canonical import CanonicalDataset
from kgstore.datasets.split import order_keys
from kgstore.graph import Graph
from kgstore.vocabulary import check_name


def split_path(home: Path, dataset: str) -> Path:
    return home / "splits" / f"{check_name(dataset)}.parquet"


def save_split(data: CanonicalDataset, home: Path) -> tuple[Path, str]:
    """Write the interactions with their split; return the file and its SHA-256."""
    path = split_path(home, data.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    columns = ["user", "item", "rating", "timestamp", "position", "split"]
    data.interactions[columns].to_parquet(partial, index=False)
    partial.replace(path)
    return path, file_sha256(path)


def load_split(home: Path, dataset: str, expected_sha256: str | None = None) -> pd.DataFrame:
    """The interactions of ``dataset`` with their split; checks the hash when one is given.
    Rows come in file order (``position``); :func:`in_time_order` orders them in time."""
    path = split_path(home, dataset)
    if not path.exists():
        raise FileNotFoundError(f"no recorded split for {dataset!r} at {path}; run kgrec ingest")
    if expected_sha256 is not None and file_sha256(path) != expected_sha256:
        raise ValueError(f"{path} does not match the split recorded in the graph")
    return pd.read_parquet(path)


def in_time_order(split: pd.DataFrame) -> pd.DataFrame:
    """The split's rows by user, each user's in the order the split was made in: by time
    where every interaction has a timestamp (ties by file position), by position otherwise."""
    return split.sort_values(order_keys(split), kind="stable")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_split_hash(graph: Graph) -> str:
    """The split's SHA-256 stored on the Dataset node at ingestion."""
    records = graph.read("experiment/split_hash")
    if not records or not records[0]["split_sha256"]:
        raise ValueError(f"dataset {graph.dataset!r} is not in the graph; run kgrec ingest first")
    return str(records[0]["split_sha256"])
