"""Choosing a persona model among candidate settings on validation: each candidate's
personas scored by how well each user's nearest users find their validation item, how far
the chosen one is ahead, and a published choice found again among the candidates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from learners.sasrec.data import SequenceData
from recommender.config import HDGIConfig
from recommender.evaluation.neighbours import neighbour_ranks
from recommender.evaluation.statistics import bootstrap_interval
from recommender.pipelines.persona_names import PersonaError


@dataclass(frozen=True)
class ChoiceMargin:
    """The chosen candidate's validation NDCG@10 minus the next best's, with its 95%
    bootstrap interval over users: an interval that holds 0 means the choice is within the
    noise of the validation users."""

    over: dict[str, object]  # the next best candidate's settings
    difference: float
    low: float
    high: float


def choice_label(config: HDGIConfig, chosen: HDGIConfig) -> str:
    """What a tuned model's published name adds after its colon: the chosen length, and the
    normalised fusion where it was chosen rather than given."""
    fused = "pathnorm-" if chosen.path_norm and not config.path_norm else ""
    return f"{fused}epochs{chosen.epochs}-patience{chosen.patience}"


Plan = tuple[dict[str, Any], list[HDGIConfig]]


def reproduced_plan(
    plans: Sequence[Plan], config: HDGIConfig, family: str, model: str
) -> tuple[list[Plan], HDGIConfig]:
    """The one run (a fusion with all its lengths, as the choice ran it) whose candidate a
    choice published as ``model``, and that candidate.

    Raises:
        PersonaError: ``model`` was not published by a choice among these candidates (other
            settings, grid, seed or HDGI code).
    """
    head, _, choice = model.partition(":")
    if head != family or not choice:
        raise PersonaError(
            f"cannot reproduce {model!r}: these settings and this code publish "
            f"{family!r}:<choice>; give the settings it was learned with (tuned: the default "
            "grid and fusions), the same --seed, on code with the same HDGI digest"
        )
    for structure, own in plans:
        for candidate in own:
            if choice_label(config, candidate) == choice:
                return [(structure, own)], candidate
    raise PersonaError(f"cannot reproduce {model!r}: no candidate is published as {choice!r}")


def validation_ranks(users: Sequence[str], personas: np.ndarray, data: SequenceData) -> np.ndarray:
    """The rank of each user's validation item among their nearest users' training items
    (users without a persona are similar to nobody)."""
    rows = pd.Index(data.users).get_indexer(pd.Index(users))
    aligned = np.zeros((len(data.users), personas.shape[1]), np.float32)
    aligned[rows[rows >= 0]] = personas[rows >= 0]
    return neighbour_ranks(aligned, data, "valid")


def choice_margin(
    scores: Sequence[float],
    values: Sequence[np.ndarray],
    best: int,
    tuning: Sequence[dict[str, object]],
) -> ChoiceMargin | None:
    """How far candidate ``best`` is ahead of the best of the candidates whose per-user
    values differ from its own (candidates that stopped at the same state are the same
    personas), with a bootstrap interval over users; None when there is no such candidate."""
    others = [
        i for i in range(len(scores))
        if i != best and len(values[i]) and not np.array_equal(values[i], values[best])
    ]  # fmt: skip
    if not others:
        return None
    runner = max(others, key=lambda i: scores[i])
    difference, low, high = bootstrap_interval(values[best], values[runner])
    changes = tuning[runner]["changes"]
    return ChoiceMargin(dict(changes) if isinstance(changes, dict) else {}, difference, low, high)
