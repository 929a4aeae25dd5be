"""The retriever comparison (the method's Table 3): a SASRec retriever for each user and
item representation, the plain SASRec reranking the persona retriever's top 100, and the
blend of both. Every number is a mean over seeds; every choice (fusion, early stopping,
blend weight) is made on validation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from learners.popularity import item_popularity
from learners.sasrec.data import SequenceData
from learners.sasrec.model import Fusion, SASRec
from recommender.config import CANDIDATES, SASRecConfig
from recommender.evaluation.evaluator import Scorer, rank_users
from recommender.evaluation.metrics import summarise
from recommender.evaluation.popularity import list_measures, tail_users, top_items
from recommender.evaluation.ranking import (
    choose_weight,
    full_ranks,
    reranked_ranks,
    sasrec_scorer,
)
from recommender.evaluation.sessions import SESSION_LENGTH, SessionPersonas
from recommender.experiments.companions import (
    CompanionFit,
    Companions,
    companion_fits,
    companion_keys,
)
from recommender.experiments.fingerprint import user_tag
from recommender.experiments.runs import Row as Row
from recommender.experiments.runs import RunResult as RunResult
from recommender.experiments.runstore import RunStore, fit_line, restore
from recommender.experiments.scenarios import (
    ANONYMOUS_PREFIX,
    SCENARIO_PREFIXES,
    SWEEP_LENGTHS,
    anonymous_ranks,
)
from recommender.experiments.scenarios import LABELS as ANONYMOUS_LABELS
from recommender.experiments.seedrecords import (
    RowRecords,
    SeedRecord,
    SeedRecords,
    SeedSweep,
    add_sweep,
)
from recommender.pipelines import inputs as training
from recommender.pipelines.inputs import (
    FUSIONS,
    PERSONA_RETRIEVER,
    PLAIN,
    RANDOM_RETRIEVER,
    VARIANTS,
    RetrieverVariant,
    TrainingInputs,
    UserVector,
    catalogue_variant,
)

COLD_MAX_TRAIN = 5  # a "cold" user has at most this many training interactions


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
class RetrieverComparison:
    """Every row's runs, and what the report says about how they were made."""

    dataset: str
    seeds: tuple[int, ...]
    n_items: int
    users: np.ndarray  # evaluated (test) users
    runs: list[RunResult]
    fusion: dict[str, Fusion]  # row key -> fusion chosen on validation
    config: SASRecConfig
    device: str
    seconds: float
    # Scenarios by session (history) length: scenario prefix -> row key -> length ("all":
    # the whole history) -> test NDCG@10 per seed.
    sweep: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    # Per evaluated user: whether the test target is a tail item (popularity-bias measures).
    tail: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # Per evaluated user: whether the user is cold (at most COLD_MAX_TRAIN training items).
    cold: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def cold_users(self) -> int:
        """How many evaluated users are cold."""
        return int(self.cold.sum())

    def rows(self) -> list[Row]:
        """The standard scenario's rows, in the order they were run."""
        every = dict.fromkeys(run.row for run in self.runs)
        return [row for row in every if not row.key.startswith(SCENARIO_PREFIXES)]

    def scenario_rows(self, prefix: str) -> list[Row]:
        """The rows of one scenario (:mod:`recommender.experiments.scenarios`), if run."""
        every = dict.fromkeys(run.row for run in self.runs)
        return [row for row in every if row.key.startswith(prefix)]

    def by_row(self, row: Row) -> list[RunResult]:
        return [run for run in self.runs if run.row == row]


def run_comparison(
    inputs: TrainingInputs,
    config: SASRecConfig,
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    variants: tuple[RetrieverVariant, ...] = VARIANTS,
    device: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_seed: Callable[[RetrieverComparison], None] | None = None,
    store: RunStore | None = None,
    controls: bool = True,
    anonymous: dict[str, SessionPersonas] | None = None,
    companions: Companions | None = None,
    records: SeedRecords | None = None,
    record_as: tuple[str, str] = ("", ""),
    row_records: RowRecords | None = None,
) -> RetrieverComparison:
    """Train every variant for every seed and evaluate on the test targets.

    Variants with a user vector try both fusions on the first seed and keep the one with
    the better validation NDCG@10 for all seeds. The reranked row reorders the persona
    retriever's top 100 with the plain SASRec of the same seed; the blended row mixes their
    scores with a weight chosen on validation. With ``controls``, two more blends are made the
    same way without the persona: two plain SASRecs of different seeds, and the reranker with
    the random-user-vector retriever (when that variant runs). ``on_seed`` receives the
    comparison so far after every seed (to save partial results of a long run). With a
    ``store``, every trained model is kept there and a model already in it is loaded, not
    trained. With ``anonymous`` (ways of making a session's persona,
    :func:`~recommender.experiments.scenarios.session_ways`), the same models are also
    scored on anonymous sessions (:mod:`recommender.experiments.scenarios`). The
    ``companions`` (session models, LLM-DMsRec, augmentation;
    :mod:`recommender.experiments.companions`) are rows too. Rows with a model of their own
    also get the popularity-bias measures of their top-10 lists
    (:mod:`recommender.evaluation.popularity`). With ``records``
    (:mod:`recommender.experiments.seedrecords`), a seed's standard rows found there are read
    instead of run, and each seed run is recorded there, with ``record_as`` (the machine,
    the digest of the inputs' vectors); with ``row_records``, likewise each companion row of
    each seed, on its own (they are the long ones, and need no other row).
    """
    if not seeds:
        raise ValueError("give at least one seed")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    data = inputs.data
    users = data.evaluable("test")
    cold = cold_mask(data, users)
    popularity = item_popularity(data.train, data.n_items)
    chosen: dict[str, Fusion] = {}
    runs: list[RunResult] = []
    sweep: dict[str, dict[str, list[float]]] = {}
    started = time.perf_counter()
    comparison: RetrieverComparison | None = None
    rows = companions or Companions()
    for seed in seeds:
        kept = records.load(seed) if records is not None else None
        plain: SASRec | None = None
        if kept is not None:
            base = kept.runs
            chosen.update(kept.fusion)
            seed_sweep = kept.sweep
            log(f"seed {seed}: every standard row read from its record (no model trained)")
        else:
            base, seed_sweep, plain = _run_seed(
                inputs, config, seed, variants, device, progress, log, store, controls,
                anonymous, chosen, users, cold, popularity,
            )  # fmt: skip
            if records is not None:
                machine, vectors = record_as
                records.save(SeedRecord(seed, base, dict(chosen), seed_sweep, machine, vectors))
        add_sweep(sweep, seed_sweep)

        def plain_model(seed: int = seed, plain: SASRec | None = plain) -> SASRec | None:
            """The seed's plain SASRec, trained or loaded only when a companion needs it."""
            if plain is not None or PLAIN not in variants:
                return plain
            return _best_fusion(inputs, PLAIN, config, seed, device, chosen, store, log,
                                progress)[0]  # fmt: skip

        fits = partial(
            companion_fits, rows, inputs, config, seed, device, store, progress, log, plain_model
        )
        extra = _companion_runs(
            companion_keys(rows), fits, data, seed, row_records, record_as, users, cold,
            popularity, log,
        )  # fmt: skip
        # Companion rows after the variants' rows (one each, first), before the blends.
        runs.extend([*base[: len(variants)], *extra, *base[len(variants) :]])
        comparison = RetrieverComparison(
            inputs.dataset,
            tuple(seeds[: seeds.index(seed) + 1]),
            data.n_items,
            users,
            list(runs),
            dict(chosen),
            config,
            device,
            time.perf_counter() - started,
            {ANONYMOUS_PREFIX: {key: dict(by_length) for key, by_length in sweep.items()}}
            if sweep
            else {},
            tail_users(data, "test", users),
            cold,
        )
        if on_seed is not None:
            on_seed(comparison)
    assert comparison is not None
    return comparison


def _run_seed(
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
        model, run = _best_fusion(
            inputs, variant, config, seed, device, chosen, store, log, progress
        )
        if run.fusion is not None:
            chosen[variant.key] = run.fusion
        _score(run, full_ranks(model, data, "test", users), cold)
        run.lists = _lists(sasrec_scorer(model), data, users, popularity)
        runs.append(run)
        models[variant] = model
    retriever = models.get(catalogue_variant(PERSONA_RETRIEVER, inputs))
    reranker = models.get(PLAIN)
    if retriever is not None and reranker is not None:
        ranks = reranked_ranks(retriever, reranker, data, "test", users, CANDIDATES)
        run = RunResult(RERANKED, seed, None, valid={}, test={}, cold=None, ranks=ranks)
        _score(run, ranks, cold)
        runs.append(run)
        blended = _blend(BLENDED, retriever, reranker, inputs, seed, users, cold, log)
        runs.append(blended)
    second: SASRec | None = None
    control: RunResult | None = None
    if controls and reranker is not None:
        second, _ = _best_fusion(
            inputs, PLAIN, config, seed + CONTROL_SEED_OFFSET, device, chosen, store, log,
            progress,
        )  # fmt: skip
        control = _blend(PLAIN_BLEND, second, reranker, inputs, seed, users, cold, log)
        runs.append(control)
        random_retriever = models.get(catalogue_variant(RANDOM_RETRIEVER, inputs))
        if random_retriever is not None:
            runs.append(
                _blend(RANDOM_BLEND, random_retriever, reranker, inputs, seed, users, cold, log)
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
                _score(run, ranks, cold)
                runs.append(run)
                log(f"seed {seed} {run.row.label}: test NDCG@10 {run.test['NDCG@10']:.4f}")
    return runs, sweep, models.get(PLAIN)


def _companion_runs(
    keys: list[str],
    fits: Callable[[set[str]], Iterator[CompanionFit]],
    data: SequenceData,
    seed: int,
    records: RowRecords | None,
    record_as: tuple[str, str],
    users: np.ndarray,
    cold: np.ndarray,
    popularity: np.ndarray,
    log: Callable[[str], None],
) -> list[RunResult]:
    """The seed's companion rows (``keys``, in order): each read from ``records`` when
    recorded there, else fitted by ``fits`` (given the keys to skip), scored and recorded."""
    kept = {
        key: record.run
        for key in keys
        if records is not None and (record := records.load(key, seed)) is not None
    }
    for key in kept:
        log(f"seed {seed} {key}: read from its record (no model trained)")
    for fit in fits(set(kept)):
        run = RunResult(
            Row(fit.key, fit.label), seed, None, {"NDCG@10": fit.valid}, {}, None,
            np.zeros(0, np.int64), seconds_per_epoch=fit.seconds_per_epoch,
            best_epoch=fit.best_epoch,
        )  # fmt: skip
        _score(run, rank_users(fit.scorer, data, "test", users), cold)
        run.lists = _lists(fit.scorer, data, users, popularity)
        if records is not None:
            records.save(run, *record_as)
        kept[fit.key] = run
    return [kept[key] for key in keys]


def _best_fusion(
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
            model, result = training.fit(variant, fusion, inputs, config, seed, device, progress)
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


def cold_mask(data: SequenceData, users: np.ndarray) -> np.ndarray:
    """True for each of ``users`` with at most :data:`COLD_MAX_TRAIN` training items."""
    return np.array([len(data.train[u]) <= COLD_MAX_TRAIN for u in users], dtype=bool)


def _blend(
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
    _score(run, ranks, cold)
    return run


def _lists(
    scorer: Scorer, data: SequenceData, users: np.ndarray, popularity: np.ndarray
) -> dict[str, float]:
    """Coverage@10 and ARP@10 of the row's test top-10 lists."""
    return list_measures(top_items(scorer, data, "test", users), popularity)


def _score(run: RunResult, ranks: np.ndarray, cold: np.ndarray) -> None:
    """``run``'s test ranks and metrics, on all users and on the cold ones (mask ``cold``)."""
    run.ranks = ranks
    run.test = summarise(ranks)
    if cold.any():
        run.cold = summarise(ranks[cold])
