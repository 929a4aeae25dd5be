from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.evaluation.metrics import (
    MISS,
    hit_rate,
    mrr,
    ndcg,
    per_user,
    precision,
    summarise,
)

# Five users; their targets ranked 1st, 3rd, 10th, 11th and not at all (0-based ranks).
RANKS = np.array([0, 2, 9, 10, MISS], dtype=np.int64)


def test_hit_rate_by_hand() -> None:
    assert hit_rate(RANKS, 1) == pytest.approx(1 / 5)
    assert hit_rate(RANKS, 10) == pytest.approx(3 / 5)
    assert hit_rate(RANKS, 11) == pytest.approx(4 / 5)
    assert hit_rate(RANKS, 100) == pytest.approx(4 / 5)


def test_ndcg_by_hand() -> None:
    expected_10 = (1 / math.log2(2) + 1 / math.log2(4) + 1 / math.log2(11)) / 5
    assert ndcg(RANKS, 10) == pytest.approx(expected_10)
    assert ndcg(RANKS, 10) == pytest.approx((1 + 0.5 + 0.289064826) / 5)
    assert ndcg(RANKS, 1) == pytest.approx(1 / 5)


def test_precision_by_hand() -> None:
    # one target per user: 1/K for each user whose target is in the top K
    assert precision(RANKS, 5) == pytest.approx((2 * (1 / 5)) / 5)
    assert precision(RANKS, 10) == pytest.approx((3 * (1 / 10)) / 5)
    assert precision(RANKS, 20) == pytest.approx((4 * (1 / 20)) / 5)


def test_mrr_by_hand() -> None:
    assert mrr(RANKS, 10) == pytest.approx((1 + 1 / 3 + 1 / 10) / 5)
    assert mrr(RANKS, 100) == pytest.approx((1 + 1 / 3 + 1 / 10 + 1 / 11) / 5)


def test_limits() -> None:
    perfect = np.zeros(7, dtype=np.int64)
    assert hit_rate(perfect, 1) == ndcg(perfect, 1) == mrr(perfect, 1) == 1.0
    nothing = np.full(7, MISS, dtype=np.int64)
    assert hit_rate(nothing, 100) == ndcg(nothing, 100) == mrr(nothing, 100) == 0.0
    # NDCG and MRR never exceed the hit rate; with one relevant item MRR <= NDCG.
    ranks = np.random.default_rng(0).integers(0, 50, 200)
    for k in (5, 10, 20):
        assert mrr(ranks, k) <= ndcg(ranks, k) <= hit_rate(ranks, k)


def test_per_user_averages_to_the_metric() -> None:
    for name, fn in (("HR", hit_rate), ("NDCG", ndcg), ("MRR", mrr)):
        assert per_user(RANKS, name, 10).mean() == pytest.approx(fn(RANKS, 10))
    with pytest.raises(ValueError, match="unknown metric"):
        per_user(RANKS, "MAP", 10)


def test_summary_keys() -> None:
    summary = summarise(RANKS)
    assert list(summary) == [
        "HR@10", "NDCG@10", "MRR@10", "HR@100", "NDCG@100", "MRR@100"
    ]  # fmt: skip
    assert summary["HR@100"] == pytest.approx(0.8)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        hit_rate(RANKS, 0)
    with pytest.raises(ValueError, match="no user"):
        ndcg(np.zeros(0, dtype=np.int64), 10)
    with pytest.raises(ValueError, match="negative"):
        mrr(np.array([-1]), 10)
