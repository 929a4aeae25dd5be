"""The ceiling benchmark's representations are what their names say, on a graph small enough
to check by hand."""

import numpy as np

from benchmarks.probe_ceiling import at_most, attribute_shares, co_user_mean, padded
from recommender.experiments.probe_tasks import training_interactions
from tests.unit.recommender.experiments.test_probe_tasks import export_with_genres


def test_attribute_shares_are_per_user_shares_of_training_items() -> None:
    export = export_with_genres()
    shares = attribute_shares(export, training_interactions(export))
    # a: i (Drama), j (Comedy), k (Comedy); b: i; c: no items
    np.testing.assert_allclose(shares, np.array([[1 / 3, 2 / 3], [1, 0], [0, 0]]))


def test_co_user_mean_averages_the_users_of_a_users_items() -> None:
    export = export_with_genres()
    own = np.array([[1.0], [3.0], [5.0]], np.float32)
    # a's items: i (users a, b: mean 2), j (a: 1), k (a: 1) -> 4/3; b's item i -> 2; c: 0
    np.testing.assert_allclose(
        co_user_mean(training_interactions(export), own), np.array([[4 / 3], [2], [0]]), rtol=1e-6
    )


def test_wide_features_are_reduced_and_narrow_ones_padded() -> None:
    rng = np.random.default_rng(0)
    wide = rng.random((50, 30)).astype(np.float32)
    assert at_most(wide, 8, seed=0).shape == (50, 8)
    assert at_most(wide, 30, seed=0) is wide
    out = padded(wide[:, :5], 12, seed=0)
    assert out.shape == (50, 12)
    np.testing.assert_array_equal(out[:, :5], wide[:, :5])
    assert np.all(np.abs(out[:, 5:].std(axis=0) - 1) < 0.5)  # random columns, unit scale
