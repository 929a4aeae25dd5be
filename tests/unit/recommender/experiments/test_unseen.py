"""The unseen-users split: no held-out user reaches any training data or HDGI's graph."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kgstore.export import GraphExport
from learners.sasrec.data import SequenceData, training_windows
from recommender.experiments.unseen import (
    arrival_data,
    held_out_users,
    training_data,
    without_users,
)


def data(users: int = 40) -> SequenceData:
    rows = []
    for u in range(users):
        items = [f"i{(u * 3 + k) % 15}" for k in range(3 + u % 4)]
        for p, item in enumerate(items):
            stage = "train" if p < len(items) - 2 else ("valid" if p == len(items) - 2 else "test")
            rows.append((f"u{u:02d}", item, p, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=[f"i{k}" for k in range(15)])


def export(sequences: SequenceData) -> GraphExport:
    users = len(sequences.users)
    pairs = np.array([(u, i - 1) for u in range(users) for i in sequences.train[u]]).T
    return GraphExport(
        "shop",
        "v1",
        ids={"User": sequences.users.copy(), "Item": sequences.items.copy(),
             "Genre": np.array(["g0", "g1"], dtype=object)},
        features={"User": np.arange(users * 2, dtype=np.float32).reshape(users, 2),
                  "Item": np.ones((15, 2), np.float32), "Genre": np.ones((2, 2), np.float32)},
        has_feature={"User": np.zeros(users, bool), "Item": np.ones(15, bool),
                     "Genre": np.ones(2, bool)},
        edges={("User", "INTERACTED", "Item"): pairs,
               ("Item", "HAS_GENRE", "Genre"): np.array([np.arange(15), np.arange(15) % 2])},
    )  # fmt: skip


def test_a_fixed_share_is_held_out_the_same_way_every_time() -> None:
    sequences = data()
    held = held_out_users(sequences)
    assert len(held) == 4 and np.array_equal(held, held_out_users(sequences))
    assert set(held) <= set(sequences.evaluable("test"))
    assert not np.array_equal(held, held_out_users(sequences, seed=1))


def test_no_held_out_user_is_in_the_graph_hdgi_trains_on() -> None:
    sequences = data()
    held = held_out_users(sequences)
    full = export(sequences)
    reduced = without_users(full, sequences.users[held])
    gone = set(sequences.users[held])
    assert not gone & set(reduced.ids["User"])
    index = reduced.edges[("User", "INTERACTED", "Item")]
    assert index[0].max() < len(reduced.ids["User"])
    kept_pairs = {(str(reduced.ids["User"][u]), int(i)) for u, i in index.T}
    every = full.edges[("User", "INTERACTED", "Item")].T
    expected = {
        (str(full.ids["User"][u]), int(i)) for u, i in every if full.ids["User"][u] not in gone
    }
    assert kept_pairs == expected  # every other edge kept, re-indexed onto the right user
    for row, user in enumerate(reduced.ids["User"]):  # features follow their users
        original = list(full.ids["User"]).index(user)
        np.testing.assert_array_equal(
            reduced.features["User"][row], full.features["User"][original]
        )
    np.testing.assert_array_equal(
        reduced.edges[("Item", "HAS_GENRE", "Genre")], full.edges[("Item", "HAS_GENRE", "Genre")]
    )
    assert reduced.version != full.version


def test_no_held_out_user_trains_or_validates_a_sasrec() -> None:
    sequences = data()
    held = held_out_users(sequences)
    reduced = training_data(sequences, held)
    assert all(len(reduced.train[u]) == 0 for u in held)
    evaluated = set(reduced.evaluable("valid")) | set(reduced.evaluable("test"))
    assert evaluated and not set(held) & evaluated
    windows = training_windows(reduced.train, 5)
    owners = windows.owners
    assert len(windows) > 0 and not set(owners.tolist()) & set(held.tolist())
    assert set(owners.tolist()) == {u for u in range(len(sequences.users)) if u not in held
                                    and len(sequences.train[u]) >= 2}  # fmt: skip


def test_held_out_users_arrive_with_their_history_and_test_item() -> None:
    sequences = data()
    held = held_out_users(sequences)
    arriving = arrival_data(sequences, held)
    for k, u in enumerate(held):
        assert arriving.train[k].tolist() == [*sequences.train[u].tolist(), sequences.valid[u]]
        assert arriving.test[k] == sequences.test[u] and arriving.valid[k] == 0
        assert arriving.users[k] == sequences.users[u]
    assert list(arriving.evaluable("test")) == list(range(len(held)))
