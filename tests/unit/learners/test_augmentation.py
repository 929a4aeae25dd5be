"""Counterfactual augmentation: the popularity head and tail, the training windows, the
guided diffusion learning which sessions lead to which items, and no held-out item ever
reaching training."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from learners.augmentation import (
    AugmentConfig,
    DiffusionConfig,
    SessionDiffusion,
    augmented,
    coherence,
    counterfactual_sessions,
    session_windows,
)
from learners.augmentation.counterfactual import GUIDANCES
from learners.augmentation.diffusion import nearest_rows
from learners.popularity import head_mask, item_popularity
from learners.sasrec.data import SequenceData


def test_popularity_counts_training_items_and_the_head_is_the_top_share() -> None:
    train = [np.array([1, 2, 2, 3]), np.array([2, 4]), np.array([], np.int64)]
    popularity = item_popularity(train, n_items=5)
    np.testing.assert_array_equal(popularity, [0, 1, 3, 1, 1, 0])
    # 20% of 5 items is one item: the most popular; 40% adds the lower index of the ties.
    np.testing.assert_array_equal(np.flatnonzero(head_mask(popularity, 0.2)), [2])
    np.testing.assert_array_equal(np.flatnonzero(head_mask(popularity, 0.4)), [1, 2])
    with pytest.raises(ValueError, match="head share"):
        head_mask(popularity, 1.5)


def test_windows_are_every_full_run_of_consecutive_training_items() -> None:
    contexts, targets = session_windows([np.array([1, 2, 3, 4]), np.array([5, 6])], 2)
    np.testing.assert_array_equal(contexts, [[1, 2], [2, 3]])
    np.testing.assert_array_equal(targets, [3, 4])
    with pytest.raises(ValueError, match="choose a shorter length"):
        session_windows([np.array([1, 2])], 2)


def clusters(n: int = 20, dim: int = 8) -> torch.Tensor:
    """Items 1..n/2 near one direction, the rest near the opposite one."""
    rng = np.random.default_rng(0)
    axis = rng.normal(size=dim)
    rows = [np.zeros(dim)]
    for k in range(1, n + 1):
        sign = 1.0 if k <= n // 2 else -1.0
        rows.append(sign * axis + 0.3 * rng.normal(size=dim))
    return torch.nn.functional.normalize(torch.tensor(np.array(rows), dtype=torch.float32), dim=1)


def test_guided_samples_lead_to_their_condition() -> None:
    """Sessions of one cluster lead to items of the same cluster; conditioned on an item of
    either cluster, the samples must come out in that cluster."""
    embeddings = clusters()
    rng = np.random.default_rng(1)
    sessions, conditions = [], []
    for _ in range(600):
        low = rng.random() < 0.5
        items = rng.integers(1, 11, size=4) if low else rng.integers(11, 21, size=4)
        sessions.append(embeddings[torch.from_numpy(items[:3])])
        conditions.append(embeddings[int(items[3])])
    config = DiffusionConfig(steps=50, epochs=100, hidden=64, batch_size=64)
    model = SessionDiffusion(3, embeddings.shape[1], config)
    losses = model.fit(torch.stack(sessions), torch.stack(conditions), progress=False)
    assert losses[-1] < losses[0]
    targets = torch.tensor([3] * 20 + [15] * 20)
    drawn = model.sample(embeddings[targets], 2.0, seed=0)
    axis = embeddings[1:11].mean(dim=0)
    side = (drawn @ axis).mean(dim=1)  # > 0: the first cluster
    assert (side[:20] > 0).float().mean() >= 0.9 and (side[20:] < 0).float().mean() >= 0.9

    # Clamped to the items: every drawn vector is an item's, still in the right cluster.
    table = embeddings[1:]
    snapped = model.sample(embeddings[targets], 2.0, seed=0, table=table)
    matches = (snapped[:, :, None, :] == table[None, None]).all(dim=-1)
    assert bool((matches.sum(dim=-1) == 1).all())
    first = matches[..., :10].any(dim=-1).float().mean(dim=1)  # share of first-cluster items
    assert (first[:20] > 0.5).float().mean() >= 0.9 and (first[20:] < 0.5).float().mean() >= 0.9
    again = model.sample(embeddings[targets], 2.0, seed=0, table=table)
    assert torch.equal(snapped, again)


def test_nearest_rows_by_euclidean_distance_in_chunks() -> None:
    table = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    vectors = torch.tensor([[[0.9, 0.2], [0.1, 0.8]], [[-2.0, 0.1], [0.4, 0.5]]])
    expected = torch.stack([table[[0, 1]], table[[2, 1]]])
    assert torch.equal(nearest_rows(vectors, table, chunk=1), expected)
    assert torch.equal(nearest_rows(vectors, table), expected)


def sequences() -> SequenceData:
    """Four users over items a..h; item h is only ever a test item, g only a valid one."""
    rows = []
    for u in range(4):
        train = ["a", "b", "c", "d", "e", "f"][u:] + ["a", "b", "c"][: u + 1]
        seq = [*train, "g", "h"]
        for p, item in enumerate(seq):
            stage = "train" if p < len(train) else ("valid" if item == "g" else "test")
            rows.append((f"u{u}", item, p, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=list("abcdefgh"))


def test_counterfactual_sessions_use_training_items_only_and_aim_at_the_tail() -> None:
    data = sequences()
    held_out = {int(data.valid[0]), int(data.test[0])}
    torch.manual_seed(0)
    embeddings = torch.randn(data.n_items + 1, 8)
    config = AugmentConfig(
        length=2, ratio=5.0, diffusion=DiffusionConfig(steps=10, epochs=2, hidden=16)
    )
    drawn = counterfactual_sessions(
        data.train, data.n_items, embeddings, config, seed=0, progress=False
    )
    generated = drawn.sessions
    assert drawn.guidance in GUIDANCES  # calibrated: the first weight as coherent as real ones
    assert drawn.coherence >= drawn.real_coherence or drawn.guidance == GUIDANCES[-1]
    assert len(generated) == 20  # 5 per user with a training sequence
    training_items = set(np.concatenate(data.train).tolist())
    head = head_mask(item_popularity(data.train, data.n_items), config.head_share)
    for session in generated:
        assert len(session) == 3 and set(session.tolist()) <= training_items
        assert not set(session.tolist()) & held_out
        assert not head[session[-1]]  # the target is a tail item
        assert session[-1] not in session[:-1]  # never its own target

    grown = augmented(data, generated)
    assert len(grown.users) == len(data.users) + 20
    np.testing.assert_array_equal(grown.evaluable("test"), data.evaluable("test"))
    for u in range(len(data.users)):  # no real user's sequence changes
        np.testing.assert_array_equal(grown.train[u], data.train[u])
    again = counterfactual_sessions(
        data.train, data.n_items, embeddings, config, seed=0, progress=False
    )
    assert all(np.array_equal(a, b) for a, b in zip(generated, again.sessions, strict=True))
    fixed = replace(config, guidance=0.0, snap=False)
    unguided = counterfactual_sessions(
        data.train, data.n_items, embeddings, fixed, seed=0, progress=False
    )
    assert unguided.guidance == 0.0 and len(unguided.sessions) == 20
    with pytest.raises(ValueError, match="guidance"):
        AugmentConfig(guidance=-1.0)
    with pytest.raises(ValueError, match="predict"):
        DiffusionConfig(predict="velocity")


def test_coherence_is_the_cosine_of_the_context_mean_and_the_target() -> None:
    embeddings = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    # Context (1, 0) and (0, 1): mean along the diagonal; item 3 lies on it, item 4 not.
    assert np.isclose(coherence([np.array([1, 2, 3])], embeddings), 1.0)
    assert np.isclose(coherence([np.array([1, 2, 4])], embeddings), -(2**-0.5))
    assert coherence([], embeddings) == 0.0
