"""One seed's standard rows of the retriever comparison: every retriever variant (each
fusion still to choose tried, the best on validation kept), the reranking, the blend and
the ensembling controls, and the anonymous-session sweep of the same models."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from learners.sasrec.data import SequenceData
from learners.sasrec.model import Fusion, SASRec
from recommender.config import CANDIDATES, SASRecConfig
from recommender.evaluation.evaluator import Scorer
from recommender.evaluation.metrics import summarise
from recommender.evaluation.popularity import list_measures, top_items
from recommender.evaluation.ranking import (
    choose_weight,
    full_ranks,
    reranked_ranks,
    sasrec_scorer,
)
from recommender.evaluation.sessions import SESSION_LENGTH, SessionPersonas
from recommender.experiments.fingerprint import user_tag
from recommender.experiments.runs import (
    BLENDED,
    CONTROL_SEED_OFFSET,
    PLAIN_BLEND,
    RANDOM_BLEND,
    RERANKED,
    Row,
    RunResult,
    variant_row,
)
from recommender.experiments.runstore import RunStore, fit_line, restore
from recommender.experiments.scenarios import ANONYMOUS_PREFIX, SWEEP_LENGTHS, anonymous_ranks
from recommender.experiments.scenarios import LABELS as ANONYMOUS_LABELS
from recommender.experiments.seedrecords import SeedSweep
from recommender.pipelines import inputs as training
from recommender.pipelines.inputs import (
    FUSIONS,
    PERSONA_RETRIEVER,
    PLAIN,
    RANDOM_RETRIEVER,
    RetrieverVariant,
    TrainingInputs,
    UserVector,
    catalogue_variant,
)


def run_seed(
    inputs: TrainingInputs,
    config: SASRecConfig,
    seed: int,
    variants: tuple[RetrieverVariant, ...],
    device: str,
    progress: bool,
    log: Callable[[str], None],
    store: RunStore | None,
    controls: bool,
    anonymous: dict[str, SessionPersonas] | None,
    chosen: dict[str, Fusion],
    users: np.ndarray,
    cold: np.ndarray,
    popularity: np.ndarray,
) -> tuple[list[RunResult], SeedSweep, SASRec | None]:
    """One seed's standard rows (fusions chosen on the first seed go into ``chosen``), its
    anonymous-session sweep, and its plain SASRec (None without that variant)."""
    data = inputs.data
    sweep: SeedSweep = {}
    runs: list[RunResult] = []
    models: dict[RetrieverVariant, SASRec] = {}
    for variant in variants:
        model, run = best_fusion(
            inputs, variant, config, seed, device, chosen, store, log, progress
        )
        if run.fusion is not None:
            chosen[variant.key] = run.fusion
        score_run(run, full_ranks(model, data, "test", users), cold)
        run.lists = top10_lists(sasrec_scorer(model), data, users, popularity)
        runs.append(run)
        models[variant] = model
    retriever = models.get(catalogue_variant(PERSONA_RETRIEVER, inputs))
    reranker = models.get(PLAIN)
    if retriever is not None and reranker is not None:
        ranks = reranked_ranks(retriever, reranker, data, "test", users, CANDIDATES)
        run = RunResult(RERANKED, seed, None, valid={}, test={}, cold=None, ranks=ranks)
        score_run(run, ranks, cold)
        runs.append(run)
        blended = blend_run(BLENDED, retriever, reranker, inputs, seed, users, cold, log)
        runs.append(blended)
    second: SASRec | None = None
    control: RunResult | None = None
    if controls and reranker is not None:
        second, _ = best_fusion(
            inputs, PLAIN, config, seed + CONTROL_SEED_OFFSET, device, chosen, store, log,
            progress,
        )  # fmt: skip
        control = blend_run(PLAIN_BLEND, second, reranker, inputs, seed, users, cold, log)
        runs.append(control)
        random_retriever = models.get(catalogue_variant(RANDOM_RETRIEVER, inputs))
        if random_retriever is not None:
            runs.append(
                blend_run(RANDOM_BLEND, random_retriever, reranker, inputs, seed, users, cold, log)
            )
    if anonymous is not None and reranker is not None:
        for length in SWEEP_LENGTHS:
            found = anonymous_ranks(
                inputs,
                reranker,
                retriever,
                None if retriever is None else blended.weight,
                second,
                None if control is None else control.weight,
                anonymous,
                length,
            )
            for key, ranks in found.items():
                sweep.setdefault(key, {})[str(length or "all")] = summarise(ranks)["NDCG@10"]
            if length != SESSION_LENGTH:
                continue
            for key, ranks in found.items():
                run = RunResult(
                    Row(ANONYMOUS_PREFIX + key, ANONYMOUS_LABELS[key]), seed, None, {}, {},
                    None, ranks,
                )  # fmt: skip
                score_run(run, ranks, cold)
                runs.append(run)
                log(f"seed {seed} {run.row.label}: test NDCG@10 {run.test['NDCG@10']:.4f}")
    return runs, sweep, models.get(PLAIN)


def best_fusion(
    inputs: TrainingInputs,
    variant: RetrieverVariant,
    config: SASRecConfig,
    seed: int,
    device: str,
    chosen: dict[str, Fusion],
    store: RunStore | None,
    log: Callable[[str], None],
    progress: bool = True,
) -> tuple[SASRec, RunResult]:
    """The variant's model of ``seed``: loaded from ``store`` or trained, under each fusion
    still to choose from, keeping the one with the best validation NDCG@10."""
    fusions: tuple[Fusion | None, ...] = (None,)
    if variant.user is not UserVector.NONE:
        fusions = (chosen[variant.key],) if variant.key in chosen else FUSIONS
    tag = user_tag(inputs, variant, config)
    best: tuple[float, SASRec, RunResult] | None = None
    for fusion in fusions:
        stored = store.load(variant.key, fusion, seed, tag) if store is not None else None
        if stored is not None:
            model = restore(training.build_model(variant, fusion, inputs, config), stored.state)
            model.to(device).eval()
            result = stored.result
        else:
            model, result = training.fit(
                variant, fusion, inputs, config, seed, device, progress,
                resume=store.progress(variant.key, fusion, seed, tag) if store else None,
            )  # fmt: skip
            if store is not None:
                store.save(variant.key, fusion, seed, model, result, tag)
        run = RunResult(
            variant_row(variant),
            seed,
            fusion,
            valid={"NDCG@10": result.best_valid},
            test={},
            cold=None,
            ranks=np.zeros(0, np.int64),
            curve=result.curve,
            seconds_per_epoch=result.seconds_per_epoch,
            best_epoch=result.best_epoch,
        )
        name = variant.label + (f" (fusion {fusion})" if fusion else "")
        log(fit_line(seed, name, result, stored is not None))
        if best is None or result.best_valid > best[0]:
            best = (result.best_valid, model, run)
    assert best is not None
    return best[1], best[2]


def blend_run(
    row: Row,
    retriever: SASRec,
    reranker: SASRec,
    inputs: TrainingInputs,
    seed: int,
    users: np.ndarray,
    cold: np.ndarray,
    log: Callable[[str], None],
) -> RunResult:
    """The retriever's top candidates ordered by the blend of both models, the retriever's
    weight chosen on validation NDCG@10; scored on the test targets."""
    data = inputs.data
    weight, valid = choose_weight(retriever, reranker, data, candidates=CANDIDATES)
    log(f"seed {seed} {row.key}: retriever weight {weight:g}, valid NDCG@10 {valid:.4f}")
    ranks = reranked_ranks(retriever, reranker, data, "test", users, CANDIDATES, weight=weight)
    run = RunResult(row, seed, None, {"NDCG@10": valid}, {}, None, ranks, weight=weight)
    score_run(run, ranks, cold)
    return run


def top10_lists(
    scorer: Scorer, data: SequenceData, users: np.ndarray, popularity: np.ndarray
) -> dict[str, float]:
    """Coverage@10 and ARP@10 of the row's test top-10 lists."""
    return list_measures(top_items(scorer, data, "test", users), popularity)


def score_run(run: RunResult, ranks: np.ndarray, cold: np.ndarray) -> None:
    """``run``'s test ranks and metrics, on all users and on the cold ones (mask ``cold``)."""
    run.ranks = ranks
    run.test = summarise(ranks)
    if cold.any():
        run.cold = summarise(ranks[cold])
