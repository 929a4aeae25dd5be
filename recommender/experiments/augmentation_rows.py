"""Counterfactual augmentation as rows of the comparison: SASRec and SR-GNN retrained on the
real training sequences plus sessions a guided diffusion model drew for tail items
(:mod:`learners.augmentation`).

For each seed the diffusion model learns sessions in the item-embedding space of the same
seed's model of that kind without augmentation (the plain SASRec row, the SR-GNN row), then
the model is trained again from a fresh initialisation on the grown data, with the settings
of its row without augmentation, stopped on the same validation NDCG@10 and scored on the
same test targets; the generated users are never evaluated. The augmentation's settings are
:class:`~learners.augmentation.AugmentConfig`'s defaults, fixed before any run; the guidance
weight is calibrated per seed on training sessions only (never on validation or test).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch

import learners.augmentation
from learners.augmentation import (
    AugmentConfig,
    augmented,
    counterfactual_sessions,
)
from learners.sasrec.data import SequenceData
from learners.sasrec.model import SASRec
from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.sessions import SessionCut
from recommender.config import SASRecConfig
from recommender.experiments.runstore import RunStore, fit_line, restore
from recommender.experiments.session_graphs import fit_session_model
from recommender.pipelines import inputs as training
from recommender.pipelines.inputs import PLAIN, TrainingInputs
from recommender.util.hashing import code_digest, fingerprint

AUGMENTED_SUFFIX = "-augmented"  # the end of an augmented row's key
AUGMENTED = {
    "sasrec": "SASRec + counterfactual augmentation (guided diffusion, tail targets)",
    "srgnn": "SR-GNN + counterfactual augmentation (guided diffusion, tail targets)",
}


def augmentation_tag(config: AugmentConfig) -> str:
    """The store tag of a model trained with ``config``'s augmentation and this code."""
    code = code_digest(Path(learners.augmentation.__file__).parent)[:8]
    return f"aug{fingerprint(asdict(config), 8)}-code{code}"


def fit_augmented(
    kind: str,
    inputs: TrainingInputs,
    base: SASRec | SessionScorer,
    config: SASRecConfig,
    augment: AugmentConfig,
    seed: int,
    device: str,
    store: RunStore | None,
    progress: bool,
    log: Callable[[str], None] = print,
    cut: SessionCut | None = None,
) -> tuple[SASRec | SessionScorer, float, int, float]:
    """``kind`` (a key of :data:`AUGMENTED`) of ``seed`` trained on the real and the generated
    sessions (``base``: the same seed's model without augmentation, whose item embeddings the
    diffusion works in); kept in (or loaded from) ``store``. Returns the model, its best
    validation NDCG@10, best epoch and seconds per epoch. ``cut`` (SR-GNN only): sessions
    cut at inactivity gaps, as the SR-GNN row without augmentation."""
    if kind not in AUGMENTED:
        raise ValueError(f"no augmented row for {kind!r}; choose from {sorted(AUGMENTED)}")
    data, key, tag = inputs.data, f"{kind}{AUGMENTED_SUFFIX}", augmentation_tag(augment)

    def grown() -> SequenceData:
        """The training data with the generated sessions (drawn only to train)."""
        drawn = counterfactual_sessions(
            data.train, data.n_items, item_embeddings(base), augment, seed, device, progress
        )
        log(
            f"seed {seed} {kind}: {len(drawn.sessions):,} counterfactual sessions generated "
            f"with guidance {drawn.guidance:g}; coherence {drawn.coherence:.3f} (real training "
            f"sessions with tail targets {drawn.real_coherence:.3f})"
        )
        return augmented(data, drawn.sessions)

    if kind == "srgnn":  # validated on the real users, trained on the grown sequences
        return fit_session_model(
            "srgnn", data, config, seed, device, store, progress, log,
            key=key, extra_tag=f"-{tag}", cut=cut, train=lambda: grown().train,
        )  # fmt: skip
    kept = store.load(key, None, seed, tag) if store is not None else None
    if kept is not None:
        model = restore(training.build_model(PLAIN, None, inputs, config), kept.state)
        model.to(device).eval()
        result = kept.result
    else:
        grown_inputs = replace(inputs, data=grown())
        model, result = training.fit(
            PLAIN, None, grown_inputs, config, seed, device, progress,
            resume=store.progress(key, None, seed, tag) if store else None,
        )  # fmt: skip
        if store is not None:
            store.save(key, None, seed, model, result, tag)
    log(fit_line(seed, key, result, kept is not None))
    return model, result.best_valid, result.best_epoch, result.seconds_per_epoch


def item_embeddings(model: SASRec | SessionScorer) -> torch.Tensor:
    """``(n_items + 1, dim)`` the model's item representations."""
    if isinstance(model, SASRec):
        return model.item_vectors().detach().cpu()
    return model.item_embedding.weight.detach().cpu()
