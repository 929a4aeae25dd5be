"""SR-GNN as a row of the comparison: the session-graph backbone the seeds build on,
trained on the same training sequences, stopped on the same validation NDCG@10 and scored
by the one evaluator on the same test targets as every other row.

It takes the settings chosen for kgrec's SASRec (width, maximum length, batch size,
learning rate, epochs and patience; one propagation step, as the paper), so it is not
tuned on its own: the report says so. Trained models are kept (the store's tag names
SR-GNN's code and settings), so a stopped run continues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

import learners.sessiongraph
from learners.sasrec.data import SequenceData, left_pad
from learners.sessiongraph import SRGNN
from learners.sessiongraph.train import train_session_model
from recommender.config import SASRecConfig
from recommender.evaluation.evaluator import Scorer, rank_users
from recommender.evaluation.metrics import ndcg
from recommender.experiments.runstore import RunStore
from recommender.util.hashing import code_digest

SRGNN_KEY = "srgnn"
SRGNN_LABEL = "SR-GNN (session graph, kgrec's evaluator; SASRec's settings, not tuned)"
STEPS = 1


def srgnn_scorer(model: SRGNN) -> Scorer:
    """Scores of every item after each user's input sequence."""
    device = next(model.parameters()).device
    model.eval()

    def scorer(_: np.ndarray, histories: Sequence[np.ndarray]) -> torch.Tensor:
        with torch.no_grad():
            return model.full_sort_predict(left_pad(list(histories), model.max_len).to(device))

    return scorer


def fit_srgnn(
    data: SequenceData,
    config: SASRecConfig,
    seed: int,
    device: str,
    store: RunStore | None,
    progress: bool,
    log: Callable[[str], None] = print,
) -> tuple[SRGNN, float, int, float]:
    """SR-GNN of ``seed``, kept in (or loaded from) ``store``: the model, its best
    validation NDCG@10, its best epoch and its seconds per epoch."""
    torch.manual_seed(seed)
    model = SRGNN(data.n_items, hidden=config.hidden, steps=STEPS, max_len=config.max_len)
    tag = f"steps{STEPS}-code{code_digest(Path(learners.sessiongraph.__file__).parent)[:8]}"
    stored = store.load(SRGNN_KEY, None, seed, tag) if store is not None else None
    if stored is not None:
        model.load_state_dict(stored.state)
        model.to(device).eval()
        result = stored.result
    else:
        valid_users = data.evaluable("valid")

        def validate(candidate: SRGNN) -> float:
            return ndcg(rank_users(srgnn_scorer(candidate), data, "valid", valid_users), 10)

        result = train_session_model(
            model, data.train, validate, epochs=config.epochs, batch_size=config.batch_size,
            lr=config.lr, patience=config.patience, seed=seed, device=device, progress=progress,
        )  # fmt: skip
        if store is not None:
            store.save(SRGNN_KEY, None, seed, model, result, tag)
    log(
        f"seed {seed} SR-GNN: valid NDCG@10 {result.best_valid:.4f} at epoch "
        f"{result.best_epoch}, {result.seconds_per_epoch:.2f} s/epoch"
        + (" (kept from an earlier run)" if stored is not None else "")
    )
    return model, result.best_valid, result.best_epoch, result.seconds_per_epoch
