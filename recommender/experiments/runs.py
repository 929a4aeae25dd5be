"""What a comparison row's run is: the row's key and label, and one seed's results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from learners.sasrec.model import Fusion
from learners.sasrec.train import EpochLog


@dataclass(frozen=True)
class Row:
    """A row of the comparison: a stable ``key`` and the ``label`` reports print."""

    key: str
    label: str


@dataclass
class RunResult:
    """One row trained (or composed) with one seed."""

    row: Row
    seed: int
    fusion: Fusion | None
    valid: dict[str, float]
    test: dict[str, float]
    cold: dict[str, float] | None
    ranks: np.ndarray  # test ranks of `RetrieverComparison.users`, in order
    curve: list[EpochLog] = field(default_factory=list)
    seconds_per_epoch: float = 0.0
    best_epoch: int = -1
    weight: float | None = None  # the blended row's retriever weight
    lists: dict[str, float] = field(default_factory=dict)  # Coverage@10, ARP@10 (see below)
