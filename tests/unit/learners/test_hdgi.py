from __future__ import annotations

import numpy as np
import pytest
import torch

from learners.hdgi import HDGI, MetapathEncoder, shuffle_features, user_metapaths
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.train import train_hdgi


def tiny_graph(seed: int = 0, users: int = 12, items: int = 9) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    interactions = np.array([[u, (u + k) % items] for u in range(users) for k in range(3)]).T
    genres = np.array([[i, i % 3] for i in range(items)]).T
    return {
        "features": {
            "User": np.zeros((users, 0), np.float32),
            "Item": rng.standard_normal((items, 16)).astype(np.float32),
            "Genre": rng.standard_normal((3, 16)).astype(np.float32),
        },
        "has_feature": {
            "User": np.zeros(users, bool),
            "Item": np.ones(items, bool),
            "Genre": np.ones(3, bool),
        },
        "edges": {
            ("User", "INTERACTED", "Item"): interactions,
            ("Item", "HAS_GENRE", "Genre"): genres,
        },
    }


def test_metapaths_come_from_the_schema() -> None:
    pairs = {
        ("User", "Item"),
        ("Item", "User"),
        ("Item", "Genre"),
        ("Entity", "Item"),
        ("Item", "Item"),
    }
    assert user_metapaths(pairs) == [
        ("User", "Item", "User"),
        ("User", "Item", "Entity", "Item", "User"),
        ("User", "Item", "Genre", "Item", "User"),
        ("User", "Item", "Item", "Item", "User"),
    ]
    assert user_metapaths({("User", "Item")}) == [("User", "Item", "User")]
    with pytest.raises(ValueError, match="users need interactions"):
        user_metapaths({("Item", "Genre")})


def test_hops_are_row_normalised_in_both_directions() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    to_item = inputs.adjacency[("Item", "User")].to_dense()
    to_user = inputs.adjacency[("User", "Item")].to_dense()
    assert to_item.shape == (9, 12) and to_user.shape == (12, 9)
    torch.testing.assert_close(to_user.sum(1), torch.ones(12))
    torch.testing.assert_close(to_item.sum(1), torch.ones(9))
    assert to_user[0, 0] > 0 and to_item[0, 0] > 0  # user 0 rated item 0, seen both ways
    assert inputs.x["User"].shape == (12, 64)  # users start random


def test_corruption_permutes_rows_only() -> None:
    x = {"User": torch.arange(20.0).reshape(10, 2)}
    shuffled = shuffle_features(x, torch.Generator().manual_seed(0))["User"]
    assert not torch.equal(shuffled, x["User"])
    assert sorted(map(tuple, shuffled.tolist())) == sorted(map(tuple, x["User"].tolist()))


def test_hdgi_shapes_loss_and_repr() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    paths = user_metapaths(inputs.type_pairs)
    encoder = MetapathEncoder({t: f.shape[1] for t, f in inputs.x.items()}, 8, paths)
    model = HDGI(8, encoder)
    pos, neg, summary = model(inputs.x, inputs.adjacency)
    assert pos.shape == neg.shape == (12, 8) and summary.shape == (8,)
    assert float(summary.min()) >= 0 and float(summary.max()) <= 1
    assert float(model.loss(pos, neg, summary)) >= 0
    assert repr(model).startswith("HDGI(8, encoder=MetapathEncoder(8, metapaths=[User-Item-User")


def test_training_lowers_the_loss_and_is_reproducible() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    first = train_hdgi(inputs, hidden_channels=8, epochs=40, seed=3, progress=False)
    again = train_hdgi(inputs, hidden_channels=8, epochs=40, seed=3, progress=False)
    assert min(first.losses) < first.losses[0]
    assert first.personas.shape == (12, 8) and first.personas.dtype == np.float32
    np.testing.assert_allclose(first.personas, again.personas, atol=1e-6)
    assert abs(sum(first.attention.values()) - 1) < 1e-5
