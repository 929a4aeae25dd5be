"""Multiple-comparison correction and intervals against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.evaluation.statistics import (
    bootstrap_interval,
    holm,
    paired_wilcoxon,
    per_seed_wilcoxon,
)


def test_holm_against_hand_computed_values() -> None:
    # Sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.5 (x1 = 0.5).
    adjusted = holm({"a": 0.03, "b": 0.01, "c": 0.5, "d": 0.02})
    assert adjusted == pytest.approx({"a": 0.06, "b": 0.04, "c": 0.5, "d": 0.06})
    # Monotone: a larger raw p never gets a smaller adjusted one; capped at 1.
    assert holm({"x": 0.04, "y": 0.045}) == pytest.approx({"x": 0.08, "y": 0.08})
    assert holm({"x": 0.6, "y": 0.7}) == {"x": 1.0, "y": 1.0}
    assert holm({"only": 0.014}) == {"only": 0.014}


def test_the_persona_p_of_0014_among_15_tests_does_not_survive_holm() -> None:
    raw = {f"pair {i}": 0.5 for i in range(14)} | {"persona vs random": 0.014}
    assert holm(raw)["persona vs random"] == pytest.approx(0.21)


def test_bootstrap_interval_covers_the_difference_and_shrinks_with_users() -> None:
    rng = np.random.default_rng(1)
    b = rng.random((3, 2_000))
    a = b + 0.1 + rng.normal(0, 0.05, b.shape)
    mean, low, high = bootstrap_interval(a, b, resamples=500)
    assert mean == pytest.approx(0.1, abs=0.01) and low < 0.1 < high
    _, small_low, small_high = bootstrap_interval(a[:, :50], b[:, :50], resamples=500)
    assert small_high - small_low > high - low
    # Identical rows: a zero-width interval at zero.
    assert bootstrap_interval(b, b, resamples=50) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="different shapes"):
        bootstrap_interval(a, b[:, :10])


def test_paired_tests_per_seed_and_over_seeds() -> None:
    rng = np.random.default_rng(2)
    b = rng.random((2, 300))
    a = b + 0.2
    assert all(p < 1e-10 for p in per_seed_wilcoxon(a, b))
    assert per_seed_wilcoxon(b, b) == [1.0, 1.0]
    p = paired_wilcoxon({"a": a.mean(axis=0), "b": b.mean(axis=0), "b again": b.mean(axis=0)})
    assert p[("a", "b")] < 1e-10 and p[("b", "b again")] == 1.0
