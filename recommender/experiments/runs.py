"""What a comparison row's run is: the row's key and label (the standard rows named here),
one seed's results; what a model tried and chose on validation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from learners.epochs import EpochLog
from learners.sasrec.model import Fusion
from recommender.pipelines.inputs import RetrieverVariant


@dataclass(frozen=True)
class Row:
    """A row of the comparison: a stable ``key`` and the ``label`` reports print."""

    key: str
    label: str


RERANKED = Row("rerank", "Reranking: None / Random over KG+LLM's top 100")
BLENDED = Row("blend", "Blend: reranker and KG+LLM retriever over its top 100")
# Ensembling controls: any two models blended usually beat one, so the persona's blend is
# compared with blends that have no knowledge graph in them.
PLAIN_BLEND = Row(
    "control-plain-blend", "Control: blend of two plain SASRecs (seeds s, s + 1000) over a top 100"
)
RANDOM_BLEND = Row(
    "control-random-blend",
    "Control: blend of the reranker and the Random / Description (LLM) retriever",
)
CONTROL_SEED_OFFSET = 1000  # the second plain SASRec of the plain-blend control


def variant_row(variant: RetrieverVariant) -> Row:
    return Row(variant.key, variant.label)


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


@dataclass
class Selection:
    """The configurations tried for one model, their validation NDCG@10, the one chosen."""

    model: str
    tried: list[tuple[str, float]]  # (configuration, validation NDCG@10)
    chosen: str
