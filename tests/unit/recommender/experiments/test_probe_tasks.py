from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kgstore.export import GraphExport
from recommender.experiments.probe_tasks import (
    attribute_sets,
    mean_item_embeddings,
    most_frequent,
    probe_task,
    reduced,
    score,
    without_latest,
)


def export_with_genres() -> GraphExport:
    export = GraphExport("t", "v1")
    export.ids = {
        "User": np.array(["a", "b", "c"], dtype=object),
        "Item": np.array(["i", "j", "k"], dtype=object),
        "Genre": np.array(["Drama", "Comedy"], dtype=object),
    }
    export.features = {
        "User": np.zeros((3, 0), np.float32),
        "Item": np.array([[1, 0], [0, 1], [3, 3]], np.float32),
        "Genre": np.zeros((2, 0), np.float32),
    }
    export.has_feature = {
        "User": np.zeros(3, bool),
        "Item": np.array([True, True, False]),
        "Genre": np.zeros(2, bool),
    }
    export.edges = {
        # a: i, j, j's genre twice via k -> Comedy; b: i -> Drama; c: nothing
        ("User", "INTERACTED", "Item"): np.array([[0, 0, 0, 1], [0, 1, 2, 0]]),
        ("Item", "HAS_GENRE", "Genre"): np.array([[0, 1, 2], [0, 1, 1]]),
    }
    return export


def test_probe_target_is_the_most_frequent_attribute() -> None:
    task = probe_task(export_with_genres())
    assert task.attribute == "Genre"
    assert task.users.tolist() == [0, 1]  # c has no genre and is left out
    assert task.labels.tolist() == [1, 0]  # a: Comedy (2 of 3), b: Drama


def test_mean_item_embeddings_skip_items_without_text() -> None:
    means = mean_item_embeddings(export_with_genres())
    np.testing.assert_allclose(means[0], [1 / 3, 1 / 3])  # k has no embedding: counts as 0
    np.testing.assert_allclose(means[1], [1, 0])
    np.testing.assert_allclose(means[2], [0, 0])


def test_score_separates_informative_from_random_features() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    from recommender.experiments.probe_tasks import ProbeTask

    task = ProbeTask(np.arange(600), labels, "Genre", 3)
    informative = np.eye(3)[labels] + 0.3 * rng.standard_normal((600, 3))
    noise = rng.standard_normal((600, 3))
    assert score(informative, task, seed=0).accuracy > 0.9
    assert score(noise, task, seed=0).accuracy < 0.5


def test_a_graph_without_attributes_cannot_be_probed() -> None:
    export = export_with_genres()
    del export.ids["Genre"]
    with pytest.raises(ValueError, match="no Genre, Category or Attribute"):
        probe_task(export)


def held_out_split() -> pd.DataFrame:
    """a holds out j and k (both Comedy), b holds out i (Drama); c's item is not in the
    graph of :func:`export_with_genres`."""
    return pd.DataFrame(
        {
            "user": ["a", "a", "a", "b", "b", "c"],
            "item": ["i", "j", "k", "j", "i", "unknown"],
            "split": ["train", "valid", "test", "train", "test", "test"],
        }
    )


def test_held_out_target_reads_only_held_out_items() -> None:
    from recommender.experiments.probe_tasks import held_out_task

    task = held_out_task(export_with_genres(), held_out_split())
    # a held out j and k (both Comedy); b held out i (Drama); c's item is not in the graph.
    # Classes are numbered by frequency among the held-out items: Comedy 0, Drama 1.
    assert task.users.tolist() == [0, 1]
    assert task.labels.tolist() == [0, 1]


def test_user_properties_become_targets_when_categorical() -> None:
    from recommender.experiments.probe_tasks import user_property_tasks

    properties = pd.DataFrame(
        {
            "gender": ["F", "M", None, "M"],
            "zip": ["1", "2", "3", "4"],  # more values than max_classes: left out
            "country": ["x", "x", "x", "x"],  # one value: nothing to predict
        },
        index=["b", "a", "c", "stranger"],  # "stranger" is not an exported user
    )
    tasks = user_property_tasks(export_with_genres(), properties, max_classes=2)
    assert list(tasks) == ["gender"]
    gender = tasks["gender"]
    assert gender.users.tolist() == [0, 1]  # a and b; c has no gender
    assert gender.labels.tolist() == [1, 0] and gender.classes == 2  # a: M, b: F


def test_reduced_baseline_keeps_the_widest_directions_at_the_persona_size() -> None:
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((200, 10)) * np.array([10.0, 5.0] + [0.1] * 8)
    out = reduced(wide, 2, seed=0)
    assert out.shape == (200, 2) and out.dtype == np.float32
    # the two components are the two high-variance axes, in order
    assert abs(np.corrcoef(out[:, 0], wide[:, 0])[0, 1]) > 0.99
    assert abs(np.corrcoef(out[:, 1], wide[:, 1])[0, 1]) > 0.99
    # a persona wider than the baseline keeps every dimension there is
    assert reduced(wide[:5], 64, seed=0).shape == (5, 5)


def test_held_out_set_target_marks_every_attribute_of_the_held_out_items() -> None:
    from recommender.experiments.probe_tasks import held_out_set_task

    task = held_out_set_task(export_with_genres(), held_out_split())
    # a held out j and k (both Comedy); b held out i (Drama); c's item is not in the graph.
    # Attributes are ordered by how often held-out items carry them: Comedy, then Drama.
    assert task.attribute == "Genre"
    assert task.users.tolist() == [0, 1]
    assert task.labels.tolist() == [[1, 0], [0, 1]]


def test_set_score_ranks_informative_above_random_features() -> None:
    from recommender.experiments.probe_tasks import SetTask, score_sets

    rng = np.random.default_rng(0)
    labels = (rng.random((600, 4)) < 0.3).astype(np.int8)
    task = SetTask(np.arange(600), labels, "Genre")
    informative = labels + 0.5 * rng.standard_normal((600, 4))
    noise = rng.standard_normal((600, 4))
    good, bad = score_sets(informative, task, seed=0), score_sets(noise, task, seed=0)
    assert good.roc_auc > 0.8 and good.average_precision > 0.6
    assert 0.35 < bad.roc_auc < 0.65
    with pytest.raises(ValueError, match="no attribute both occurs and is absent"):
        score_sets(noise, SetTask(np.arange(600), np.ones((600, 4), np.int8), "Genre"), 0)


def interactions_in_time(rows: list[tuple[str, str, float, str]]) -> pd.DataFrame:
    users, items, times, splits = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user": users,
            "item": items,
            "timestamp": times,
            "position": range(len(rows)),
            "split": splits,
        }
    )


def test_without_latest_leaves_out_each_users_latest_items_but_never_all() -> None:
    export = export_with_genres()
    split = interactions_in_time(
        [
            ("a", "i", 1, "train"),
            ("a", "j", 2, "train"),
            ("a", "k", 3, "train"),
            ("a", "j", 9, "valid"),  # held out already: not a training item
            ("b", "i", 1, "train"),  # b's only item stays
        ]
    )
    earlier, later = without_latest(export, split, fraction=0.2)
    assert later.toarray().tolist() == [[0, 0, 1], [0, 0, 0], [0, 0, 0]]  # a's k
    kept = earlier.edges[("User", "INTERACTED", "Item")]
    assert sorted(map(tuple, kept.T.tolist())) == [(0, 0), (0, 1), (1, 0)]
    assert export.edges[("User", "INTERACTED", "Item")].shape[1] == 4  # the original is kept
    assert earlier.version != export.version
    # Later targets: a's left-out item k is a Comedy, the most common later genre (column 0).
    assert most_frequent(earlier, later).labels.tolist() == [0]
    sets = attribute_sets(earlier, later)
    assert sets.users.tolist() == [0] and sets.labels.tolist() == [[1, 0]]


def test_without_latest_orders_a_repeated_pair_by_its_last_time() -> None:
    split = interactions_in_time(
        [
            ("a", "i", 1, "train"),
            ("a", "j", 2, "train"),
            ("a", "k", 3, "train"),
            ("a", "i", 4, "train"),  # i again, after k: i is the latest item
            ("b", "i", 1, "train"),
        ]
    )
    _, later = without_latest(export_with_genres(), split, fraction=0.5)
    assert later.toarray()[0].tolist() == [1, 0, 0]  # floor(0.5 * 3) = 1 pair: i


def test_without_latest_refuses_a_fraction_outside_zero_one() -> None:
    split = interactions_in_time([("a", "i", 1, "train")])
    for fraction in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="must lie in"):
            without_latest(export_with_genres(), split, fraction)
