"""Ensembling and persona controls: which rows run, and how they are compared."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.config import SASRecConfig
from recommender.evaluation.metrics import MISS, per_user, summarise
from recommender.experiments.comparison import RetrieverComparison, run_comparison
from recommender.experiments.controls import compare_controls, controls_markdown
from recommender.experiments.runs import BLENDED, PLAIN_BLEND, RANDOM_BLEND, RunResult, variant_row
from recommender.pipelines.inputs import (
    PERSONA_RETRIEVER,
    PLAIN,
    RANDOM_RETRIEVER,
    SHUFFLED_RETRIEVER,
    UserVector,
    derangement,
)
from tests.unit.recommender.experiments.test_runstore import inputs


def test_derangement_moves_every_user_and_is_fixed_by_its_seed() -> None:
    for n in (2, 3, 10, 943):
        order = derangement(n, 0)
        assert sorted(order.tolist()) == list(range(n))
        assert not np.any(order == np.arange(n))
    assert derangement(50, 0).tolist() == derangement(50, 0).tolist()
    assert derangement(50, 0).tolist() != derangement(50, 1).tolist()
    assert derangement(1, 0).tolist() == [0]


def test_the_controls_run_beside_the_blend() -> None:
    given = inputs()
    given.user_features[UserVector.SHUFFLED] = given.user_features[UserVector.PERSONA][
        derangement(len(given.data.users), 0)
    ]
    variants = (PLAIN, RANDOM_RETRIEVER, PERSONA_RETRIEVER, SHUFFLED_RETRIEVER)
    config = SASRecConfig(hidden=16, epochs=1, patience=1)
    table = run_comparison(given, config, (0,), variants, "cpu", progress=False, log=print)
    keys = [row.key for row in table.rows()]
    assert keys[-3:] == [BLENDED.key, PLAIN_BLEND.key, RANDOM_BLEND.key]
    assert variant_row(SHUFFLED_RETRIEVER).key in keys
    for row in (BLENDED, PLAIN_BLEND, RANDOM_BLEND):
        (run,) = table.by_row(row)
        assert run.weight is not None and 0.0 <= run.weight <= 1.0
    without = run_comparison(
        given, config, (0,), variants, "cpu", progress=False, log=print, controls=False
    )
    assert PLAIN_BLEND not in without.rows() and RANDOM_BLEND not in without.rows()


def comparison(offset: float) -> RetrieverComparison:
    """The blend ranks every target ``offset`` better than the plain blend does, on seeds
    0 and 1; the other controls did not run."""
    rng = np.random.default_rng(0)
    runs = []
    for seed in (0, 1):
        base = rng.integers(0, 30, 400)
        better = np.maximum(base - int(offset), 0)
        for row, ranks in ((BLENDED, better), (PLAIN_BLEND, base)):
            runs.append(RunResult(row, seed, None, {}, summarise(ranks), None, ranks))
    users = np.arange(400)
    return RetrieverComparison("toy", (0, 1), 500, users, runs, {}, SASRecConfig(), "cpu", 1.0)


def test_controls_are_compared_with_intervals_and_holm() -> None:
    found = compare_controls(comparison(offset=5), resamples=300)
    assert [(c.row.key, c.control.key, c.metric) for c in found] == [
        (BLENDED.key, PLAIN_BLEND.key, "NDCG@10"),
        (BLENDED.key, PLAIN_BLEND.key, "HR@100"),
    ]
    ndcg, hr = found
    assert ndcg.low < ndcg.mean < ndcg.high and ndcg.low > 0 and ndcg.relative > 0.05
    assert ndcg.p < 1e-6 and ndcg.p_holm == ndcg.p  # a family of one
    assert len(ndcg.p_per_seed) == 2 and max(ndcg.p_per_seed) < 1e-3
    # Every target is inside the top 100 either way: no difference, p = 1.
    assert hr.mean == 0.0 and hr.p == 1.0
    same = compare_controls(comparison(offset=0), resamples=100)[0]
    assert same.mean == 0.0 and same.p == 1.0
    text = "\n".join(controls_markdown(comparison(offset=5)))
    assert "What the knowledge graph adds, against controls" in text
    assert "| Blend: reranker and KG+LLM retriever over its top 100 | Control: blend of two" in text


def test_a_missed_target_counts_as_zero_for_both() -> None:
    table = comparison(offset=0)
    for run in table.runs:
        run.ranks = np.full_like(run.ranks, MISS)
    (ndcg, _) = compare_controls(table, resamples=50)
    assert ndcg.mean == 0.0 and ndcg.relative != ndcg.relative  # NaN: the control scored 0


@pytest.mark.parametrize("label", ["KG+LLM (shuffled)", "shuffled"])
def test_the_shuffled_control_is_named_by_label_or_value(label: str) -> None:
    assert UserVector.from_label(label) is UserVector.SHUFFLED


def test_cold_users_are_a_family_of_their_own_over_their_ranks_only() -> None:
    table = comparison(offset=5)
    cold = np.zeros(400, bool)
    cold[:100] = True
    for run in table.by_row(BLENDED):  # better than the plain blend on the cold users only
        plain = next(r for r in table.by_row(PLAIN_BLEND) if r.seed == run.seed)
        run.ranks = np.where(cold, run.ranks, plain.ranks)
    table.cold = cold
    everyone = compare_controls(table, resamples=100)[0]
    alone = compare_controls(table, resamples=100, users=cold)[0]
    expected = np.mean(
        [
            per_user(run.ranks[:100], "NDCG", 10).mean()
            - per_user(plain.ranks[:100], "NDCG", 10).mean()
            for run, plain in zip(table.by_row(BLENDED), table.by_row(PLAIN_BLEND), strict=True)
        ]
    )
    assert alone.mean == pytest.approx(expected) and alone.mean > 0
    assert everyone.mean == pytest.approx(alone.mean / 4)
    text = "\n".join(controls_markdown(table))
    assert "### Cold users only (100)" in text
    cold_part = text[text.index("### Cold users only") :]
    assert f"| {BLENDED.label} | {PLAIN_BLEND.label} | NDCG@10 | {alone.mean:+.4f} [" in cold_part
    table.cold = np.zeros(400, bool)  # no cold user: no section
    assert "Cold users only" not in "\n".join(controls_markdown(table))
