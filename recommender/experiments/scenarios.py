"""Scenarios beside the standard one, on the same split and models: anonymous sessions.

**Anonymous sessions.** Every test user becomes an anonymous visitor: the session is the
last :data:`~recommender.evaluation.sessions.SESSION_LENGTH` items before the test item
(their training items and validation item), no user id reaches any model, they are left out
of the neighbours a session persona is averaged from, and the test item is ranked in the
served two-stage order among the items the user has not chosen (the one evaluator's rule).
The models are the standard rows' (trained once, on every training interaction); the blend
weights are the ones their standard rows chose on validation. Rows: the plain SASRec on the
session; the persona retriever with the reranker and no persona, the persona by the
session's neighbours, and the persona by the trained HDGI encoder (where its memory is
kept); the ensembling control (two plain SASRecs); the strongest tuned peer on the session
(its runs rank :func:`anonymous_stages` as they finish training). Every choice here was fixed
before the rows were first run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from learners.sasrec.data import SequenceData
from learners.sasrec.model import SASRec
from recommender.config import CANDIDATES
from recommender.evaluation.sessions import (
    SESSION_LENGTH,
    SessionPersonas,
    item_users,
    neighbour_personas,
    no_personas,
    session_encoder,
    session_ranks,
)
from recommender.pipelines.inputs import TrainingInputs, UserVector

ANONYMOUS_PREFIX = "anonymous-"
UNSEEN_PREFIX = "unseen-"  # rows of recommender.experiments.unseen
SCENARIO_PREFIXES = (ANONYMOUS_PREFIX, UNSEEN_PREFIX)
LABELS = {
    "plain": "Anonymous session: plain SASRec on the session",
    "none": "Anonymous session: blend, no persona",
    "neighbours": "Anonymous session: blend, persona of the 20 users sharing most items",
    "encoder": "Anonymous session: blend, KG persona by the trained HDGI encoder",
    "control": "Anonymous session: control, blend of two plain SASRecs",
}
PEER_KEY = "peer"  # the strongest tuned peer's anonymous row: ANONYMOUS_PREFIX + PEER_KEY


def session_ways(
    inputs: TrainingInputs, memory: dict[str, np.ndarray] | None
) -> dict[str, SessionPersonas]:
    """The ways of giving an anonymous session a persona that this dataset allows."""
    personas = inputs.user_features.get(UserVector.PERSONA)
    if personas is None:
        return {}
    data = inputs.data
    ways = {
        "none": no_personas(personas.shape[1]),
        "neighbours": neighbour_personas(personas, item_users(data.train, data.n_items)),
    }
    if memory is not None:
        ways["encoder"] = session_encoder(memory, data.items)
    return ways


# Session lengths of the sweep (None: the user's whole history before the test item).
SWEEP_LENGTHS: tuple[int | None, ...] = (1, 2, 3, 5, 10, None)


def anonymous_ranks(
    inputs: TrainingInputs,
    reranker: SASRec,
    retriever: SASRec | None,
    blend_weight: float | None,
    second: SASRec | None,
    control_weight: float | None,
    ways: dict[str, SessionPersonas],
    length: int | None = SESSION_LENGTH,
) -> dict[str, np.ndarray]:
    """Test ranks of every evaluable test user per anonymous row (keys of :data:`LABELS`),
    the session being the last ``length`` items before the test item (None: all)."""
    data = inputs.data
    nothing = no_personas(1)  # models without a user vector read no persona
    longest = max((len(s) for s in data.inputs("test")), default=1)

    def ranks(first: SASRec, make: SessionPersonas, weight: float) -> np.ndarray:
        return session_ranks(
            first, reranker, data, make, stage="test", weight=weight, candidates=CANDIDATES,
            session_length=length or longest,
        )  # fmt: skip

    found = {"plain": ranks(reranker, nothing, 0.0)}
    if retriever is not None and blend_weight is not None:
        for way, make in ways.items():
            found[way] = ranks(retriever, make, blend_weight)
    if second is not None and control_weight is not None:
        found["control"] = ranks(second, nothing, control_weight)
    return found


def anonymous_stage(length: int) -> str:
    """The name of a peer's scored stage for anonymous sessions of ``length`` items."""
    return f"{ANONYMOUS_PREFIX}{length}"


def anonymous_stages(data: SequenceData) -> dict[str, list[dict[str, Any]]]:
    """The anonymous-session scenario as a peer run's scored stages, one per length of
    :data:`SWEEP_LENGTHS` (the whole history is the standard test): every evaluable test
    user, in order, with the last ``length`` items before the test item as the session and
    the whole history still excluded from the ranking."""
    inputs, targets = data.inputs("test"), data.targets("test")
    users = data.evaluable("test")
    return {
        anonymous_stage(length): [
            {
                "history": inputs[u].tolist(),
                "session": inputs[u][-length:].tolist(),
                "target": int(targets[u]),
            }
            for u in users
        ]
        for length in SWEEP_LENGTHS
        if length is not None
    }
