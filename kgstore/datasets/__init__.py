"""Dataset adapters: public formats -> one canonical in-memory form (no database here)."""

from kgstore.datasets.canonical import CanonicalDataset, DatasetError
from kgstore.datasets.registry import ADAPTERS, load_dataset

__all__ = ["ADAPTERS", "CanonicalDataset", "DatasetError", "load_dataset"]
