"""The seeds' companion methods as rows of one seed of the comparison: the session models
(:mod:`recommender.experiments.session_graphs`) and the models retrained with
counterfactual sessions (:mod:`recommender.experiments.augmentation_rows`), each fitted (or
loaded from the store) and handed back with its scorer, so the comparison scores every one
the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from learners.augmentation import AugmentConfig
from learners.augmentation.counterfactual import GUIDANCES
from learners.sasrec.model import SASRec
from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.sessions import SessionCut
from recommender.config import SASRecConfig
from recommender.evaluation.evaluator import Scorer
from recommender.evaluation.ranking import sasrec_scorer
from recommender.experiments.augmentation_rows import AUGMENTED, AUGMENTED_SUFFIX, fit_augmented
from recommender.experiments.runstore import RunStore
from recommender.experiments.session_graphs import (
    IntentSource,
    fit_session_model,
    session_scorer,
)
from recommender.experiments.session_kinds import SESSION_MODELS
from recommender.pipelines.inputs import TrainingInputs


@dataclass(frozen=True)
class Companions:
    """Which companion rows a comparison adds, and how.

    Attributes:
        session_models: keys of :data:`~recommender.experiments.session_kinds.SESSION_MODELS`.
        intents: what LLM-DMsRec rows infer their intents with (needed only for them).
        augment: keys of :data:`~recommender.experiments.augmentation_rows.AUGMENTED`.
        cut: sessions cut at inactivity gaps for the session-graph rows (and SR-GNN with
            augmentation); None reads the whole sequence.
    """

    session_models: tuple[str, ...] = ()
    intents: IntentSource | None = None
    augment: tuple[str, ...] = ()
    augment_config: AugmentConfig = field(default_factory=AugmentConfig)
    cut: SessionCut | None = None


@dataclass(frozen=True)
class CompanionFit:
    """One companion row of one seed: its key and label, its scorer of every item, and how
    its training went."""

    key: str
    label: str
    scorer: Scorer
    valid: float
    best_epoch: int
    seconds_per_epoch: float


def companion_fits(
    companions: Companions,
    inputs: TrainingInputs,
    config: SASRecConfig,
    seed: int,
    device: str,
    store: RunStore | None,
    progress: bool,
    log: Callable[[str], None],
    plain: Callable[[], SASRec | None],
    skip: set[str] | None = None,
) -> Iterator[CompanionFit]:
    """Every companion row of ``seed`` but those whose key is in ``skip``; ``plain`` gives
    the same seed's plain SASRec (the item space SASRec's augmentation works in), called
    only when that row is fitted."""
    data, cut, skip = inputs.data, companions.cut, skip or set()
    fitted: dict[str, SessionScorer] = {}
    for kind in companions.session_models:
        if kind in skip:
            continue
        model, valid, epoch, per_epoch = fit_session_model(
            kind, data, config, seed, device, store, progress, log, companions.intents, cut=cut
        )
        fitted[kind] = model
        yield CompanionFit(
            kind, SESSION_MODELS[kind], session_scorer(model, cut), valid, epoch, per_epoch
        )
    for kind in companions.augment:
        if f"{kind}{AUGMENTED_SUFFIX}" in skip:
            continue
        base: SASRec | SessionScorer | None
        if kind == "sasrec":
            base = plain()
        else:
            base = (
                fitted.get("srgnn")
                or fit_session_model(
                    "srgnn", data, config, seed, device, store, progress, log, cut=cut
                )[0]
            )
        if base is None:
            raise ValueError("augmenting SASRec needs the plain SASRec row among the variants")
        grown, valid, epoch, per_epoch = fit_augmented(
            kind, inputs, base, config, companions.augment_config, seed, device, store,
            progress, log, cut,
        )  # fmt: skip
        scorer = sasrec_scorer(grown) if isinstance(grown, SASRec) else session_scorer(grown, cut)
        yield CompanionFit(
            f"{kind}{AUGMENTED_SUFFIX}", AUGMENTED[kind], scorer, valid, epoch, per_epoch
        )


def companion_keys(companions: Companions) -> list[str]:
    """The row keys of the companion rows, in the order :func:`companion_fits` yields them."""
    return [*companions.session_models, *(f"{k}{AUGMENTED_SUFFIX}" for k in companions.augment)]


def companion_lines(companions: Companions) -> list[str]:
    """The report's notes on how the companion rows were made: LLM-DMsRec's intents, the
    augmentation's settings, sessions cut at inactivity gaps (each only where used)."""
    lines: list[str] = []
    if companions.intents is not None:
        source = companions.intents
        lines += [
            "## LLM-DMsRec's intents",
            "",
            f"Generator `{source.generator.name}` (greedy, cached), embedder "
            f"`{source.embedder.name}`; inferred once per dataset and backbone from the first "
            "seed's candidates (recommender/experiments/session_graphs.py).",
            "",
        ]
    if companions.augment:
        lines += [
            "## Counterfactual augmentation",
            "",
            augmentation_settings(companions.augment_config),
            "",
        ]
    if companions.cut is not None:
        hours = companions.cut.gap_seconds / 3600
        lines += [
            "## Sessions",
            "",
            "The session-graph rows (SR-GNN, GCE-GNN, LLM-DMsRec, SR-GNN with augmentation) "
            f"cut each user's sequence wherever two interactions are more than {hours:g} hours "
            "apart: they train on the prefixes of those sessions and read only the user's "
            "latest session before the target. Every other row reads the whole history; "
            "targets are the same.",
            "",
        ]
    return lines


def augmentation_settings(config: AugmentConfig) -> str:
    """The augmentation's settings as the report states them."""
    d = config.diffusion
    if config.guidance is not None:
        guidance = f"guidance weight {config.guidance:g}"
    else:
        guidance = (
            "guidance weight calibrated per seed on training data only (the smallest of "
            f"{', '.join(f'{w:g}' for w in GUIDANCES)} whose generated sessions point at their "
            "targets as much as real training sessions with tail targets do; the run's log "
            "gives the weight)"
        )
    snap = "; every sampling step snaps its clean estimate to training items" if config.snap else ""
    return (
        f"Settings fixed before the run, not tuned: {config.ratio} generated sessions per user "
        f"of {config.length} items each, targets drawn uniformly from the training targets "
        f"outside the most popular {config.head_share:.0%} of items; diffusion with {d.steps} "
        f"steps (linear variance {d.beta_start} to {d.beta_end}), an MLP denoiser of width "
        f"{d.hidden} predicting the {d.predict}, {d.epochs} epochs, condition dropped from "
        f"{d.drop_condition:.0%} of examples; {guidance}{snap}; each item the nearest training "
        "item to the generated vector (learners/augmentation/)."
    )
