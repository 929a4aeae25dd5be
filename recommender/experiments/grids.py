"""The tuning grids of ``kgrec experiment compare``, fixed before any run: every model gets
the same validation budget, at most :data:`BUDGET` configurations, one seed each, chosen on
validation NDCG@10 (kgrec's evaluator) only."""

from __future__ import annotations

from typing import Any

from recommender.config import SASRecConfig

BUDGET = 6  # configurations per model, the most any model is given

# kgrec's SASRec: the configuration of every variant, chosen on the plain SASRec.
KGREC_GRID: tuple[dict[str, Any], ...] = (
    {},  # the product's defaults (batch 16, dropout 0.1)
    {"batch_size": 64},
    {"batch_size": 256},
    {"dropout": 0.3},
    {"batch_size": 64, "dropout": 0.3},
    {"batch_size": 64, "lr": 3e-3},
)

# RecBole peers: from RecBole 1.2.1's own defaults (listed first) to small batches, more or
# less dropout, width and learning rate.
PEER_GRIDS: dict[str, tuple[dict[str, Any], ...]] = {
    "SASRec": (
        {"train_batch_size": 2048, "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.2, "attn_dropout_prob": 0.2},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.2, "attn_dropout_prob": 0.2,
         "hidden_size": 128, "inner_size": 256},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5,
         "learning_rate": 3e-3},
        {"train_batch_size": 64, "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5},
    ),
    "GRU4Rec": (
        {"train_batch_size": 2048, "dropout_prob": 0.3},
        {"train_batch_size": 256, "dropout_prob": 0.3},
        {"train_batch_size": 256, "dropout_prob": 0.1},
        {"train_batch_size": 256, "dropout_prob": 0.3, "hidden_size": 256},
        {"train_batch_size": 256, "dropout_prob": 0.3, "learning_rate": 3e-3},
        {"train_batch_size": 64, "dropout_prob": 0.3},
    ),
    "BERT4Rec": (
        {"train_batch_size": 2048, "hidden_dropout_prob": 0.2, "attn_dropout_prob": 0.2},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.2, "attn_dropout_prob": 0.2},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.2, "attn_dropout_prob": 0.2,
         "hidden_size": 128, "inner_size": 256},
        {"train_batch_size": 256, "hidden_dropout_prob": 0.2, "attn_dropout_prob": 0.2,
         "learning_rate": 3e-3},
        {"train_batch_size": 64, "hidden_dropout_prob": 0.2, "attn_dropout_prob": 0.2},
    ),
    "SRGNN": (
        {"train_batch_size": 2048},
        {"train_batch_size": 256},
        {"train_batch_size": 256, "step": 2},
        {"train_batch_size": 256, "embedding_size": 128},
        {"train_batch_size": 256, "learning_rate": 3e-3},
        {"train_batch_size": 64},
    ),
    "KSR": (
        {"train_batch_size": 2048},
        {"train_batch_size": 256},
        {"train_batch_size": 256, "dropout_prob": 0.3},
        {"train_batch_size": 256, "freeze_kg": True},
        {"train_batch_size": 256, "learning_rate": 3e-3},
        {"train_batch_size": 64},
    ),
}  # fmt: skip
PEERS = tuple(PEER_GRIDS)


def kgrec_configs(base: SASRecConfig, limit: int = BUDGET) -> list[SASRecConfig]:
    """kgrec's grid around ``base`` (its epochs and patience are kept)."""
    return [base.model_copy(update=change) for change in KGREC_GRID[:limit]]


def grid_lines(limit: int = BUDGET) -> list[str]:
    """The grids as the analysis plan and the report print them."""
    lines = [
        f"kgrec SASRec (every variant), changes from the defaults: {_dicts(KGREC_GRID[:limit])}"
    ]
    for model, grid in PEER_GRIDS.items():
        lines.append(f"RecBole {model}: {_dicts(grid[:limit])}")
    return lines


def _dicts(grid: tuple[dict[str, Any], ...]) -> str:
    return "; ".join(
        "{" + ", ".join(f"{k}={v}" for k, v in change.items()) + "}" if change else "defaults"
        for change in grid
    )
