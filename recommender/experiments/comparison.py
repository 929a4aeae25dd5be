"""The retriever comparison (the method's Table 3): a SASRec retriever for each user and
item representation, the plain SASRec reranking the persona retriever's top 100, and the
blend of both (:mod:`~recommender.experiments.standard_rows`), with the companion rows,
over seeds, each seed read from its record where one exists. Every number is a mean over
seeds; every choice (fusion, early stopping, blend weight) is made on validation."""

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
from recommender.config import SASRecConfig
from recommender.evaluation.evaluator import rank_users
from recommender.evaluation.popularity import tail_users
from recommender.evaluation.sessions import SessionPersonas
from recommender.experiments.companions import (
    CompanionFit,
    Companions,
    companion_fits,
    companion_keys,
)
from recommender.experiments.runs import Row, RunResult
from recommender.experiments.runstore import RunStore
from recommender.experiments.scenarios import ANONYMOUS_PREFIX, SCENARIO_PREFIXES
from recommender.experiments.seedrecords import RowRecords, SeedRecord, SeedRecords, add_sweep
from recommender.experiments.standard_rows import best_fusion, run_seed, score_run, top10_lists
from recommender.pipelines.inputs import PLAIN, VARIANTS, RetrieverVariant, TrainingInputs

COLD_MAX_TRAIN = 5  # a "cold" user has at most this many training interactions


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
            base, seed_sweep, plain = run_seed(
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
            return best_fusion(inputs, PLAIN, config, seed, device, chosen, store, log,
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
        score_run(run, rank_users(fit.scorer, data, "test", users), cold)
        run.lists = top10_lists(fit.scorer, data, users, popularity)
        if records is not None:
            records.save(run, *record_as)
        kept[fit.key] = run
    return [kept[key] for key in keys]


def cold_mask(data: SequenceData, users: np.ndarray) -> np.ndarray:
    """True for each of ``users`` with at most :data:`COLD_MAX_TRAIN` training items."""
    return np.array([len(data.train[u]) <= COLD_MAX_TRAIN for u in users], dtype=bool)
