from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from learners.hdgi import HDGI, MetapathEncoder, shuffle_features, user_metapaths
from learners.hdgi.auxiliary import (
    Auxiliaries,
    TasteReconstruction,
    attribute_profile,
    co_user_taste,
)
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.train import train_hdgi


def hyper(**changes: Any) -> dict[str, Any]:
    """HDGI's hyperparameters for the tiny test graphs (no defaults in the trainer)."""
    base: dict[str, Any] = dict(
        hidden_channels=8,
        epochs=40,
        lr=5e-3,
        patience=100,
        taste_weight=1.0,
        profile_weight=1.0,
        max_grad_norm=1.0,
    )
    return base | changes


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
    assert float(summary.detach().min()) >= 0 and float(summary.detach().max()) <= 1
    assert float(model.loss(pos, neg, summary).detach()) >= 0
    assert repr(model).startswith("HDGI(8, encoder=MetapathEncoder(8, metapaths=[User-Item-User")


def test_hdgi_is_pygs_deep_graph_infomax_with_a_stable_loss() -> None:
    from torch_geometric.nn import DeepGraphInfomax

    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    encoder = MetapathEncoder(
        {t: f.shape[1] for t, f in inputs.x.items()}, 8, user_metapaths(inputs.type_pairs)
    )
    model = HDGI(8, encoder)
    assert isinstance(model, DeepGraphInfomax)
    torch.manual_seed(0)
    pos, neg, summary = model(inputs.x, inputs.adjacency)
    # The corruption changed the features, not the structure: the embeddings differ.
    assert not torch.allclose(pos, neg)
    # Binary cross-entropy on the logits is the parent's loss without its EPS.
    with torch.no_grad():
        ours = model.loss(pos, neg, summary)
        parents = DeepGraphInfomax.loss(model, pos, neg, summary)
        logits = pos @ (model.weight @ summary), neg @ (model.weight @ summary)
        by_hand = (
            -torch.nn.functional.logsigmoid(logits[0]).mean()
            - torch.nn.functional.logsigmoid(-logits[1]).mean()
        )
    torch.testing.assert_close(ours, by_hand)
    torch.testing.assert_close(ours, parents, atol=1e-5, rtol=1e-5)
    # An auxiliary term is added on top, on the real embeddings only.
    term = TasteReconstruction(8, torch.randn(12, 3), weight=0.5)
    with_term = HDGI(8, encoder, auxiliary=term)
    with torch.no_grad():
        torch.testing.assert_close(
            with_term.loss(pos, neg, summary),
            DeepGraphInfomax.loss(with_term, pos, neg, summary) + term(pos),
            atol=1e-5,
            rtol=1e-5,
        )


def test_training_lowers_the_loss_and_is_reproducible() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    first = train_hdgi(inputs, **hyper(epochs=40), seed=3, progress=False)
    again = train_hdgi(inputs, **hyper(epochs=40), seed=3, progress=False)
    assert min(first.losses) < first.losses[0]
    assert first.personas.shape == (12, 8) and first.personas.dtype == np.float32
    np.testing.assert_allclose(first.personas, again.personas, atol=1e-6)
    assert abs(sum(first.attention.values()) - 1) < 1e-5


def test_co_user_taste_averages_the_tastes_of_users_who_chose_the_same_items() -> None:
    # Users 0 and 1 share item 0; user 1 also chose item 1; user 2 chose item 2 alone.
    graph = {
        "features": {
            "User": np.zeros((3, 0), np.float32),
            "Item": np.array([[1.0, 0.0], [0.0, 1.0], [4.0, 4.0]], np.float32),
        },
        "has_feature": {"User": np.zeros(3, bool), "Item": np.ones(3, bool)},
        "edges": {("User", "INTERACTED", "Item"): np.array([[0, 1, 1, 2], [0, 0, 1, 2]])},
    }
    inputs = hdgi_inputs(to_hetero_data(**graph))  # type: ignore[arg-type]
    own = np.array([[1.0, 0.0], [0.5, 0.5], [4.0, 4.0]])
    # item 0 is chosen by users 0 and 1, item 1 by user 1, item 2 by user 2
    per_item = np.array([(own[0] + own[1]) / 2, own[1], own[2]])
    raw = np.array([per_item[0], (per_item[0] + per_item[1]) / 2, per_item[2]])
    expected = (raw - raw.mean(0)) / raw.std(0, ddof=1)
    taste = co_user_taste(inputs.x, inputs.adjacency)
    np.testing.assert_allclose(taste.numpy(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="co-user taste needs interactions"):
        co_user_taste(inputs.x, {})


def test_the_taste_term_adds_to_the_loss_and_trains_its_decoder() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    paths = user_metapaths(inputs.type_pairs)
    encoder = MetapathEncoder({t: f.shape[1] for t, f in inputs.x.items()}, 8, paths)
    target = co_user_taste(inputs.x, inputs.adjacency)
    torch.manual_seed(0)
    term = TasteReconstruction(8, target, weight=2.0)
    with_taste = HDGI(8, encoder, auxiliary=term)
    plain = HDGI(8, encoder)
    plain.weight.data.copy_(with_taste.weight.data)  # the same discriminator for both
    pos, neg, summary = plain(inputs.x, inputs.adjacency)
    expected = plain.loss(pos, neg, summary) + term(pos)
    torch.testing.assert_close(with_taste.loss(pos, neg, summary), expected)
    assert any(p is term.decoder.weight for p in with_taste.parameters())
    assert "TasteReconstruction(weight=2.0" in repr(with_taste)
    with pytest.raises(ValueError, match="3 personas but 12 targets"):
        term(pos[:3])


def test_the_attribute_profile_is_the_share_of_a_users_items_per_attribute() -> None:
    # Item 0 has genre 0, item 1 genres 0 and 1, item 2 genre 1; user 0 chose item 0, user 1
    # items 0 and 1, user 2 item 2.
    graph = {
        "features": {
            "User": np.zeros((3, 0), np.float32),
            "Item": np.eye(3, dtype=np.float32),
            "Genre": np.eye(2, dtype=np.float32),
        },
        "has_feature": {
            "User": np.zeros(3, bool),
            "Item": np.ones(3, bool),
            "Genre": np.ones(2, bool),
        },
        "edges": {
            ("User", "INTERACTED", "Item"): np.array([[0, 1, 1, 2], [0, 0, 1, 2]]),
            ("Item", "HAS_GENRE", "Genre"): np.array([[0, 1, 1, 2], [0, 0, 1, 1]]),
        },
    }
    inputs = hdgi_inputs(to_hetero_data(**graph))  # type: ignore[arg-type]
    shares = np.array([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0]])
    centred = shares - shares.mean(axis=0)
    both = attribute_profile(inputs.adjacency, rank=5).numpy()
    assert both.shape == (3, 4)  # the rank is capped by the number of attributes
    own, co_users = both[:, :2], both[:, 2:]
    for half in (own, co_users):
        assert abs(half.std(ddof=1) - 1) < 1e-5
        np.testing.assert_allclose(half.mean(axis=0), 0, atol=1e-5)
    # All components kept: the same geometry as the centred shares, up to one scale.
    gram, expected = own @ own.T, centred @ centred.T
    np.testing.assert_allclose(gram / gram[0, 0], expected / expected[0, 0], atol=1e-4)
    # Co-users: user 0's item is shared with user 1, so user 0 gets the mean of both
    # profiles; user 1 the mean of (user 0 and 1) and (user 1); user 2 its own.
    mixed = np.array([(own[0] + own[1]) / 2, ((own[0] + own[1]) / 2 + own[1]) / 2, own[2]])
    mixed -= mixed.mean(axis=0)
    np.testing.assert_allclose(co_users, mixed / mixed.std(ddof=1), atol=1e-4)
    with pytest.raises(ValueError, match="no node type besides User is linked to Item"):
        attribute_profile({k: v for k, v in inputs.adjacency.items() if "Genre" not in k}, 2)


def test_auxiliary_terms_add_up() -> None:
    torch.manual_seed(0)
    z = torch.randn(4, 8)
    first = TasteReconstruction(8, torch.randn(4, 3))
    second = TasteReconstruction(8, torch.randn(4, 5), weight=0.5)
    both = Auxiliaries([first, second])
    torch.testing.assert_close(both(z), first(z) + second(z))
    assert "weight=1.0" in repr(both) and "weight=0.5" in repr(both)


def test_training_without_the_taste_term_is_plain_hdgi() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    plain = train_hdgi(inputs, **hyper(epochs=5, taste_weight=0, profile_weight=0), progress=False)
    tasted = train_hdgi(inputs, **hyper(epochs=5, profile_weight=0), progress=False)
    # The taste term's squared error on standardised targets starts near 1 on top of DGI's.
    assert tasted.losses[0] > plain.losses[0] + 0.5
    # So does the attribute-profile term's (its target has unit variance), once users' genre
    # mixes differ (in the tiny graph every user has one item of each genre).
    graph = tiny_graph()
    genres = [[i, 0 if i < 4 else 1 + i % 2] for i in range(9)]
    graph["edges"][("Item", "HAS_GENRE", "Genre")] = np.array(genres).T  # type: ignore[index]
    inputs = hdgi_inputs(to_hetero_data(**graph))  # type: ignore[arg-type]
    plain = train_hdgi(inputs, **hyper(epochs=5, taste_weight=0, profile_weight=0), progress=False)
    profiled = train_hdgi(inputs, **hyper(epochs=5, taste_weight=0), progress=False)
    assert profiled.losses[0] > plain.losses[0] + 0.5
    # Without attributes there is no profile: the term is left out, not an error.
    del graph["edges"][("Item", "HAS_GENRE", "Genre")]  # type: ignore[attr-defined]
    bare = hdgi_inputs(to_hetero_data(**graph))  # type: ignore[arg-type]
    assert len(train_hdgi(bare, **hyper(epochs=2), progress=False).losses) == 2


def test_path_norm_gives_every_metapath_the_same_scale() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    paths = user_metapaths(inputs.type_pairs)
    seen: list[torch.Tensor] = []
    for path_norm in (False, True):
        torch.manual_seed(0)
        encoder = MetapathEncoder(
            {t: f.shape[1] for t, f in inputs.x.items()}, 8, paths, path_norm=path_norm
        )
        encoder.semantic.register_forward_hook(lambda _m, args, _o: seen.append(args[0]))
        encoder(inputs.x, inputs.adjacency)
    plain, normed = seen
    per_row = normed.pow(2).mean(dim=-1)  # layer norm: unit mean square per user and path
    assert torch.allclose(per_row[per_row > 0], torch.ones_like(per_row[per_row > 0]), atol=1e-3)
    assert not torch.allclose(plain.norm(dim=-1), normed.norm(dim=-1))


def test_each_stop_gives_what_a_run_with_those_limits_gives() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    stops = [(10, 100), (80, 2), (80, 5), (80, 100)]
    run = train_hdgi(
        inputs, **hyper(epochs=80, patience=100, lr=5e-2), stops=stops, seed=1, progress=False
    )
    assert set(run.stopped) == set(stops)
    lengths = set()
    for epochs, patience in stops:
        alone = train_hdgi(
            inputs, **hyper(epochs=epochs, patience=patience, lr=5e-2), seed=1, progress=False
        )
        stop = run.stopped[(epochs, patience)]
        assert stop.epochs_run == len(alone.losses)
        assert stop.best_epoch == alone.best_epoch
        np.testing.assert_allclose(stop.personas, alone.personas, atol=1e-6)
        lengths.add(stop.epochs_run)
    assert len(lengths) >= 3  # the limits stopped at different epochs: the test means something
    np.testing.assert_allclose(run.stopped[(80, 100)].personas, run.personas, atol=1e-6)


def test_stops_beyond_the_runs_limits_are_refused() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outside the run's limits"):
        train_hdgi(inputs, **hyper(epochs=10), stops=[(20, 5)], progress=False)


@pytest.mark.parametrize("path_norm", [False, True])
def test_a_training_user_re_added_with_their_edges_gets_their_persona(path_norm: bool) -> None:
    graph = tiny_graph()
    inputs = hdgi_inputs(to_hetero_data(**graph))  # type: ignore[arg-type]
    result = train_hdgi(inputs, **hyper(epochs=20, path_norm=path_norm), seed=2, progress=False)
    assert result.memory is not None
    users, items = graph["edges"][("User", "INTERACTED", "Item")]  # type: ignore[index]
    own = [items[users == u] for u in range(12)]
    np.testing.assert_allclose(result.memory.encode(own), result.personas, atol=1e-5)


def test_an_inductive_persona_is_deterministic_and_needs_no_parameter_of_its_own() -> None:
    # Two encoders trained on graphs whose users differ only in their random start features
    # give different personas; the memory reads only items, so a new user with the same
    # items gets the same persona from the same memory, however often it is asked.
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    memory = train_hdgi(inputs, **hyper(epochs=10), seed=4, progress=False).memory
    assert memory is not None
    new = [np.array([0, 4, 4]), np.array([8])]
    first, again = memory.encode(new), memory.encode(new)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (2, 8) and not np.allclose(first[0], first[1])
    with pytest.raises(ValueError, match="no items"):
        memory.encode([np.array([], np.int64)])
    with pytest.raises(ValueError, match="outside"):
        memory.encode([np.array([9])])


def test_the_memory_round_trips_through_arrays() -> None:
    from learners.hdgi.inductive import PersonaMemory

    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    memory = train_hdgi(inputs, **hyper(epochs=5, path_norm=True), progress=False).memory
    assert memory is not None
    again = PersonaMemory.from_arrays(memory.to_arrays())
    rows = [np.array([1, 2]), np.array([3])]
    np.testing.assert_array_equal(again.encode(rows), memory.encode(rows))
    assert again.path_norm


def test_mean_fusion_weighs_every_metapath_alike() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    result = train_hdgi(inputs, **hyper(epochs=10, fusion="mean"), progress=False)
    weights = list(result.attention.values())
    assert len(weights) == 2 and all(abs(w - 0.5) < 1e-6 for w in weights)


def test_path_dropout_leaves_paths_out_in_training_only() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    paths = user_metapaths(inputs.type_pairs)
    sizes = {t: f.shape[1] for t, f in inputs.x.items()}
    encoder = MetapathEncoder(sizes, 8, paths, path_dropout=0.9)
    torch.manual_seed(0)
    seen = set()
    for _ in range(20):
        encoder(inputs.x, inputs.adjacency)
        assert encoder.last_attention is not None
        kept = tuple(bool(w > 0) for w in encoder.last_attention)
        assert any(kept) and abs(float(encoder.last_attention.sum()) - 1) < 1e-6
        seen.add(kept)
    assert len(seen) > 1  # different paths were left out
    encoder.eval()
    encoder(inputs.x, inputs.adjacency)
    assert encoder.last_attention is not None and bool((encoder.last_attention > 0).all())
    with pytest.raises(ValueError, match="path_dropout"):
        MetapathEncoder(sizes, 8, paths, path_dropout=1.0)


def test_a_subset_of_metapaths_ablates_the_others() -> None:
    inputs = hdgi_inputs(to_hetero_data(**tiny_graph()))  # type: ignore[arg-type]
    only = [("User", "Item", "User")]
    result = train_hdgi(inputs, **hyper(epochs=5), metapaths=only, progress=False)
    assert list(result.attention) == ["User-Item-User"]
    with pytest.raises(ValueError, match="not among"):
        train_hdgi(inputs, **hyper(epochs=5), metapaths=[("User", "Genre", "User")])
