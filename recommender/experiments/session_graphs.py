"""SR-GNN and GCE-GNN as rows of the comparison: the session-graph backbones the seeds
build on, trained on the same training sequences, stopped on the same validation NDCG@10
and scored by the one evaluator on the same test targets as every other row.

They take the settings chosen for kgrec's SASRec (width, maximum length, batch size,
learning rate, epochs and patience; SR-GNN with one propagation step as its paper, GCE-GNN
with a global graph of items within 2 clicks and 12 neighbours each, built from the training
sequences only), so they are not tuned on their own: the report says so. Trained models are
kept (the store's tag names their code and settings), so a stopped run continues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

import learners.sessiongraph
from learners.sasrec.data import SequenceData, left_pad
from learners.sessiongraph import GCEGNN, SRGNN, global_graph
from learners.sessiongraph.train import train_session_model
from recommender.config import SASRecConfig
from recommender.evaluation.evaluator import Scorer, rank_users
from recommender.evaluation.metrics import ndcg
from recommender.experiments.runstore import RunStore
from recommender.util.hashing import code_digest

SESSION_MODELS = {
    "srgnn": "SR-GNN (session graph, kgrec's evaluator; SASRec's settings, not tuned)",
    "gcegnn": "GCE-GNN (session and global graphs, kgrec's evaluator; SASRec's settings, "
    "not tuned)",
}
STEPS = 1  # SR-GNN's propagation steps
EPSILON, NEIGHBOURS = 2, 12  # GCE-GNN's global graph


def session_scorer(model: SRGNN | GCEGNN) -> Scorer:
    """Scores of every item after each user's input sequence."""
    device = next(model.parameters()).device
    model.eval()

    def scorer(_: np.ndarray, histories: Sequence[np.ndarray]) -> torch.Tensor:
        with torch.no_grad():
            return model.full_sort_predict(left_pad(list(histories), model.max_len).to(device))

    return scorer


def build(kind: str, data: SequenceData, config: SASRecConfig) -> tuple[SRGNN | GCEGNN, str]:
    """A fresh model of ``kind`` (a key of :data:`SESSION_MODELS`) and its store tag."""
    code = code_digest(Path(learners.sessiongraph.__file__).parent)[:8]
    if kind == "srgnn":
        srgnn = SRGNN(data.n_items, hidden=config.hidden, steps=STEPS, max_len=config.max_len)
        return srgnn, f"steps{STEPS}-code{code}"
    if kind == "gcegnn":
        graph = global_graph(data.train, data.n_items, epsilon=EPSILON, top=NEIGHBOURS)
        gce = GCEGNN(data.n_items, graph, hidden=config.hidden, max_len=config.max_len)
        return gce, f"eps{EPSILON}-top{NEIGHBOURS}-code{code}"
    raise ValueError(f"unknown session model {kind!r}; choose from {sorted(SESSION_MODELS)}")


def fit_session_model(
    kind: str,
    data: SequenceData,
    config: SASRecConfig,
    seed: int,
    device: str,
    store: RunStore | None,
    progress: bool,
    log: Callable[[str], None] = print,
) -> tuple[SRGNN | GCEGNN, float, int, float]:
    """The session-graph model ``kind`` of ``seed``, kept in (or loaded from) ``store``: the
    model, its best validation NDCG@10, its best epoch and its seconds per epoch."""
    torch.manual_seed(seed)
    model, tag = build(kind, data, config)
    stored = store.load(kind, None, seed, tag) if store is not None else None
    if stored is not None:
        model.load_state_dict(stored.state, strict=False)  # the global graph is rebuilt
        model.to(device).eval()
        result = stored.result
    else:
        valid_users = data.evaluable("valid")

        def validate(candidate: SRGNN | GCEGNN) -> float:
            return ndcg(rank_users(session_scorer(candidate), data, "valid", valid_users), 10)

        result = train_session_model(
            model, data.train, validate, epochs=config.epochs, batch_size=config.batch_size,
            lr=config.lr, patience=config.patience, seed=seed, device=device, progress=progress,
        )  # fmt: skip
        if store is not None:
            store.save(kind, None, seed, model, result, tag)
    log(
        f"seed {seed} {kind}: valid NDCG@10 {result.best_valid:.4f} at epoch "
        f"{result.best_epoch}, {result.seconds_per_epoch:.2f} s/epoch"
        + (" (kept from an earlier run)" if stored is not None else "")
    )
    return model, result.best_valid, result.best_epoch, result.seconds_per_epoch
