from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from kgstore.splits import in_time_order
from learners.epochs import TrainResult
from learners.progress import Progress
from learners.sasrec.data import SequenceData, batches, left_pad, training_windows
from learners.sasrec.model import SASRec
from learners.sasrec.train import train_sasrec
from tests.unit.learners.stops import Stopped, stopping

SHAPE: dict[str, Any] = {"hidden": 16, "layers": 2, "heads": 2, "dropout": 0.0, "max_len": 50}


def split_frame() -> pd.DataFrame:
    rows = []
    for user, items in {"u1": ["a", "b", "c", "d", "e"], "u2": ["c", "a", "b"]}.items():
        for position, item in enumerate(items):
            stage = (
                "train"
                if position < len(items) - 2
                else ["valid", "test"][position - len(items) + 2]
            )
            rows.append((user, item, position, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return in_time_order(frame.sample(frac=1.0, random_state=0))  # by `position`, not rows


def test_sequences_from_a_split() -> None:
    data = SequenceData.from_split(split_frame(), catalogue=["a", "b", "c", "d", "e", "cold"])
    assert data.n_items == 6
    index = {item: k + 1 for k, item in enumerate(data.items)}
    user = {u: row for row, u in enumerate(data.users)}
    assert data.train[user["u1"]].tolist() == [index["a"], index["b"], index["c"]]
    assert data.valid[user["u1"]] == index["d"] and data.test[user["u1"]] == index["e"]
    assert data.inputs("test")[user["u2"]].tolist() == [index["c"], index["a"]]
    assert sorted(data.evaluable("valid").tolist()) == [0, 1]


def test_split_errors() -> None:
    with pytest.raises(ValueError, match="not in the catalogue"):
        SequenceData.from_split(split_frame(), catalogue=["a", "b"])
    with pytest.raises(ValueError, match="lacks columns"):
        SequenceData.from_split(split_frame().drop(columns="position"))
    with pytest.raises(ValueError, match="duplicate"):
        SequenceData.from_split(split_frame(), catalogue=["a", "a", "b", "c", "d", "e"])


@pytest.mark.parametrize("stride", [None, 4, 3, 2, 1])
def test_windows_make_every_item_but_the_first_a_target_once(stride: int | None) -> None:
    train = [np.arange(1, 12), np.array([5]), np.array([3, 4])]
    windows = training_windows(train, max_len=4, stride=stride)
    assert all(len(w) <= 5 for w in windows.windows)
    targets = [t for users, inputs, batch_targets in batches(windows, 2, 4, None)
               for t in batch_targets[batch_targets > 0].tolist()]  # fmt: skip
    assert sorted(targets) == sorted([*range(2, 12), 4])
    assert 1 not in windows.owners.tolist()  # the 1-item user gives none


def test_the_default_windows_overlap_by_one_item() -> None:
    windows = training_windows([np.arange(1, 12)], max_len=4)
    assert [w.tolist() for w in windows.windows] == [[7, 8, 9, 10, 11], [3, 4, 5, 6, 7], [1, 2, 3]]
    assert windows.learned.tolist() == [4, 4, 2]
    same = training_windows([np.arange(1, 12)], max_len=4, stride=4)
    assert [w.tolist() for w in same.windows] == [w.tolist() for w in windows.windows]


def test_a_smaller_stride_predicts_every_target_from_more_of_its_history() -> None:
    """Hand-worked: items 1..11, windows of at most 5 items ending 2 apart; each window
    teaches its last 2 targets (the first: all it has), from at least 5 - 2 = 3 items."""
    windows = training_windows([np.arange(1, 12)], max_len=4, stride=2)
    assert [w.tolist() for w in windows.windows] == [
        [7, 8, 9, 10, 11], [5, 6, 7, 8, 9], [3, 4, 5, 6, 7], [1, 2, 3, 4, 5]
    ]  # fmt: skip
    assert windows.learned.tolist() == [2, 2, 2, 4]
    _, inputs, targets = next(batches(windows, 8, 4, None))
    assert targets.tolist() == [[0, 0, 10, 11], [0, 0, 8, 9], [0, 0, 6, 7], [2, 3, 4, 5]]
    context = {int(t): int((inputs[row, : col + 1] > 0).sum())
               for row, col in zip(*torch.nonzero(targets, as_tuple=True), strict=True)
               for t in [targets[row, col]]}  # fmt: skip
    assert context == {10: 3, 11: 4, 8: 3, 9: 4, 6: 3, 7: 4, 2: 1, 3: 2, 4: 3, 5: 4}
    # With the default windows, 4 is predicted from 1 item (3), here from 3 (1, 2, 3).


@pytest.mark.parametrize("stride", [0, 5])
def test_a_stride_beyond_the_window_is_refused(stride: int) -> None:
    with pytest.raises(ValueError, match="stride must be 1 to max_len"):
        training_windows([np.arange(1, 12)], max_len=4, stride=stride)


def test_batches_never_ask_for_a_target_without_context() -> None:
    windows = training_windows([np.array([7, 8, 9]), np.array([4, 5])], max_len=5)
    users, inputs, targets = next(batches(windows, 8, 5, None))
    assert users.tolist() == [0, 1]
    assert inputs.tolist() == [[7, 8], [0, 4]] and targets.tolist() == [[8, 9], [0, 5]]


def test_left_pad_keeps_the_most_recent_items() -> None:
    padded = left_pad([np.array([1, 2, 3, 4]), np.array([5])], max_len=3)
    assert padded.tolist() == [[2, 3, 4], [0, 0, 5]]


def model(**kwargs: object) -> SASRec:
    torch.manual_seed(0)
    built = SASRec(20, hidden=16, layers=2, heads=2, dropout=0.0, max_len=8, **kwargs)  # type: ignore[arg-type]
    return built.eval()


def test_no_future_leakage() -> None:
    """Changing item t+1 never changes the states (and so the scores) at positions <= t."""
    sasrec = model()
    seq = torch.tensor([[0, 0, 3, 7, 2, 9, 4, 11]])
    base = sasrec(seq)
    for t in range(2, 7):
        changed = seq.clone()
        changed[0, t + 1] = 15
        logits = sasrec(changed)
        assert torch.allclose(logits[0, : t + 1], base[0, : t + 1], atol=1e-6)
        assert not torch.allclose(logits[0, t + 1], base[0, t + 1])


def test_padding_does_not_change_scores() -> None:
    sasrec = model()
    short = torch.tensor([[3, 7, 2]])
    padded = torch.tensor([[0, 0, 0, 0, 3, 7, 2]])
    assert torch.allclose(
        sasrec.full_sort_predict(short)[:, 1:], sasrec.full_sort_predict(padded)[:, 1:], atol=1e-5
    )
    scores = sasrec.full_sort_predict(padded)
    assert torch.isneginf(scores[:, 0]).all() and torch.isfinite(scores[:, 1:]).all()
    assert torch.isneginf(sasrec(padded)[..., 0]).all()


def test_predict_agrees_with_full_sort() -> None:
    sasrec = model()
    seq = torch.tensor([[0, 3, 7, 2], [5, 6, 1, 8]])
    candidates = torch.tensor([[1, 4, 19], [2, 2, 20]])
    full = sasrec.full_sort_predict(seq)
    assert torch.allclose(sasrec.predict(seq, candidates), full.gather(1, candidates), atol=1e-5)


def test_users_and_item_features() -> None:
    item_features = torch.randn(21, 12)
    learned = model(n_users=3, item_features=item_features)
    seq = torch.tensor([[3, 7, 2], [3, 7, 2]])
    scores = learned.full_sort_predict(seq, torch.tensor([0, 1]))
    assert not torch.allclose(scores[0, 1:], scores[1, 1:])
    for fusion in ("input", "output"):
        fixed = model(user_features=torch.randn(3, 5), fusion=fusion).eval()
        with torch.no_grad():
            # Two users, one sequence: the persona must change the scores, in either fusion.
            scores = fixed.full_sort_predict(seq, torch.tensor([0, 2]))
            assert not torch.allclose(scores[0, 1:], scores[1, 1:]), fusion
            same = fixed.full_sort_predict(seq, torch.tensor([2, 2]))
            torch.testing.assert_close(same[0], same[1])
            candidates = torch.tensor([[1, 2], [1, 2]])
            torch.testing.assert_close(
                fixed.predict(seq, candidates, torch.tensor([0, 2])), scores.gather(1, candidates)
            )
    with pytest.raises(ValueError, match="user indices"):
        learned.full_sort_predict(seq)
    with pytest.raises(ValueError, match="not both"):
        model(n_users=3, user_features=torch.randn(3, 5))
    with pytest.raises(ValueError, match="rows"):
        model(item_features=torch.randn(5, 12))
    with pytest.raises(ValueError, match="fusion"):
        model(n_users=3, fusion="middle")
    assert "users=learned" in repr(learned) and "items=features" in repr(learned)


def cyclic_data(users: int = 30, items: int = 12, length: int = 14) -> SequenceData:
    """Every user walks the items in a fixed cycle from a random start: a learnable rule."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(users):
        start = int(rng.integers(items))
        walk = [f"i{(start + step) % items}" for step in range(length)]
        for position, item in enumerate(walk):
            stage = (
                "train"
                if position < length - 2
                else ("valid" if position == length - 2 else "test")
            )
            rows.append((f"u{u}", item, position, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=[f"i{k}" for k in range(items)])


@pytest.mark.parametrize("negatives", [None, 4])
def test_training_learns_a_sequential_rule(negatives: int | None) -> None:
    data = cyclic_data()
    sasrec = SASRec(data.n_items, hidden=16, layers=1, heads=1, dropout=0.0, max_len=6)
    users = data.evaluable("valid")

    def accuracy(m: SASRec) -> float:
        with torch.no_grad():
            seq = left_pad([data.train[u] for u in users], m.max_len)
            best = m.full_sort_predict(seq).argmax(dim=1).numpy()
        return float(np.mean(best == data.valid[users]))

    before = accuracy(sasrec.eval())
    result = train_sasrec(sasrec, data, accuracy, epochs=60, batch_size=8, lr=1e-2,
                          patience=60, negatives=negatives, progress=False)  # fmt: skip
    assert result.curve[-1].loss < result.curve[0].loss
    assert result.best_valid >= 0.9 > before
    assert accuracy(sasrec) == result.best_valid  # the model ends in its best state
    # The timings are the epochs' own: their mean, and the windows trained per second.
    seconds = [epoch.seconds for epoch in result.curve]
    assert result.seconds_per_epoch == pytest.approx(np.mean(seconds))
    windows = len(training_windows(data.train, sasrec.max_len))
    assert result.sequences_per_second == pytest.approx(windows * len(seconds) / sum(seconds))


def test_training_needs_sequences() -> None:
    frame = pd.DataFrame(
        [("u", "a", 0, "train"), ("u", "b", 1, "valid"), ("u", "c", 2, "test")],
        columns=["user", "item", "position", "split"],
    )
    data = SequenceData.from_split(frame)
    with pytest.raises(ValueError, match="nothing to learn"):
        model = SASRec(data.n_items, hidden=8, layers=1, heads=1, dropout=0.0, max_len=8)
        train_sasrec(model, data, lambda m: 0.0, epochs=1, batch_size=8, lr=1e-3, patience=1,
                     negatives=None, progress=False)  # fmt: skip


def test_item_residual_starts_at_the_text_vectors() -> None:
    features = torch.randn(21, 12)
    refined = model(item_features=features, item_residual=True)
    assert refined.item_projection is not None
    with torch.no_grad():  # offsets start at 0: the vectors are the projected texts
        assert torch.allclose(refined.item_projection(features), refined.item_vectors())
    assert "items=features+learned" in repr(refined)
    assert refined.item_embedding is not None and refined.item_embedding.weight.requires_grad


def test_items_never_trained_on_keep_their_text_vector() -> None:
    """Under a full softmax an item that is never a target only ever gets pushed down; its
    offset is masked, so a cold item is scored by its text alone."""
    features = torch.randn(21, 12)
    trained = torch.ones(21, dtype=torch.bool)
    trained[[5, 6]] = False
    refined = model(item_features=features, item_residual=True, residual_items=trained)
    assert refined.item_embedding is not None
    optimiser = torch.optim.SGD(refined.parameters(), lr=1.0)
    seq = torch.tensor([[1, 2, 3, 4]])
    loss = torch.nn.functional.cross_entropy(refined(seq)[0], torch.tensor([2, 3, 4, 7]))
    loss.backward()  # type: ignore[no-untyped-call]
    optimiser.step()
    with torch.no_grad():
        vectors, text = refined.item_vectors(), refined.item_projection(features)  # type: ignore[misc]
        assert torch.allclose(vectors[[0, 5, 6]], text[[0, 5, 6]])  # padding and cold items
        assert not torch.allclose(vectors[7], text[7])  # a trained item moved off its text
    with pytest.raises(ValueError, match=r"residual_items has shape \(3,\)"):
        model(item_features=features, item_residual=True, residual_items=trained[:3])


def test_sequences_follow_time_where_the_split_did() -> None:
    """ml-100k's file order is not chronological: sequences must be ordered by timestamp,
    as the split was, or the last training item would not precede the validation item."""
    frame = pd.DataFrame(
        {
            "user": ["u"] * 5,
            "item": ["late", "early", "test", "mid", "valid"],
            "timestamp": [40.0, 10.0, 60.0, 20.0, 50.0],
            "position": [0, 1, 2, 3, 4],
            "split": ["train", "train", "test", "train", "valid"],
        }
    )
    with pytest.raises(ValueError, match="not in each user's time order"):
        SequenceData.from_split(frame)
    data = SequenceData.from_split(in_time_order(frame))
    names = [data.items[i - 1] for i in data.train[0]]
    assert names == ["early", "mid", "late"]
    assert data.items[data.valid[0] - 1] == "valid" and data.items[data.test[0] - 1] == "test"


def test_user_dropout_drops_whole_user_vectors_in_training_only() -> None:
    torch.manual_seed(0)
    personas = torch.randn(64, 8)
    model = SASRec(20, **SHAPE, user_features=personas, user_dropout=0.5)
    without = SASRec(20, **SHAPE, user_features=personas)
    without.load_state_dict(model.state_dict())
    assert without.user_projection is not None
    with torch.no_grad():  # a zero user vector is what a dropped one becomes
        without.user_projection.weight.zero_()
        without.user_projection.bias.zero_()
    seq = torch.randint(1, 21, (64, 6))
    users = torch.arange(64)
    model.train()
    trained = model.encode(seq, users)
    model.eval()
    kept = model.encode(seq, users)
    dropped = without.eval().encode(seq, users)
    is_kept = torch.isclose(trained, kept, atol=1e-6).all(dim=(1, 2))
    is_dropped = torch.isclose(trained, dropped, atol=1e-6).all(dim=(1, 2))
    assert (is_kept ^ is_dropped).all()  # each sequence: the whole vector, or none of it
    assert 16 <= int(is_dropped.sum()) <= 48
    assert torch.equal(model.encode(seq, users), kept)  # evaluation never drops
    with pytest.raises(ValueError, match="user_dropout"):
        SASRec(20, **SHAPE, user_features=personas, user_dropout=1.0)


@pytest.mark.parametrize("stop_after", [1, 3, "the last epoch"])
def test_a_run_stopped_part_way_resumes_to_the_uninterrupted_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_after: int | str
) -> None:
    """Dropout, shuffled batches and early stopping all in play: the resumed run must end
    with the same weights, curve and best epoch as one that never stopped, whether it was
    stopped after an epoch or after its last one (the stop decided, the model not yet
    handed back)."""
    data = cyclic_data()

    def run(resume: Path | None, stop_at: int | None = None) -> tuple[SASRec, TrainResult]:
        torch.manual_seed(1)
        sasrec = SASRec(data.n_items, hidden=16, layers=1, heads=1, dropout=0.3, max_len=6)

        def validate(m: SASRec) -> float:
            with torch.no_grad():
                users = data.evaluable("valid")
                scores = m.full_sort_predict(left_pad([data.train[u] for u in users], m.max_len))
                return float(scores[np.arange(len(users)), data.valid[users]].mean())

        result = train_sasrec(sasrec, data, stopping(validate, stop_at), epochs=40,
                              batch_size=8, lr=1e-2, patience=2, negatives=None, seed=4,
                              progress=False, window_stride=2, resume=resume)  # fmt: skip
        return sasrec, result

    whole, expected = run(None)
    assert len(expected.curve) < 40  # stopped early
    state = tmp_path / "run.progress.pt"
    with pytest.raises(Stopped), monkeypatch.context() as patched:
        if isinstance(stop_after, int):
            run(state, stop_at=stop_after)
        else:

            def ended(_: Progress) -> None:
                raise Stopped

            patched.setattr(Progress, "clear", ended)
            run(state)
    assert state.exists()
    resumed, found = run(state)
    assert not state.exists()  # removed once the run has finished
    assert [(e.epoch, e.loss, e.valid) for e in found.curve] == [
        (e.epoch, e.loss, e.valid) for e in expected.curve
    ]
    assert (found.best_epoch, found.best_valid) == (expected.best_epoch, expected.best_valid)
    for name, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
