"""Item sequences from the leave-one-out split: per user the chronological training items,
the validation item and the test item, as 1-based item indices (0 is padding)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import Tensor

Stage = Literal["valid", "test"]


@dataclass(frozen=True)
class SequenceData:
    """A dataset's sequences, aligned with its item catalogue.

    Attributes:
        items: item ids; item ``items[k]`` is model index ``k + 1``.
        users: user ids; row ``u`` of every per-user array is user ``users[u]``.
        train: per user, training item indices in order.
        valid: per user, the validation item index (``0`` when the user has none).
        test: per user, the test item index (``0`` when the user has none).
    """

    items: np.ndarray
    users: np.ndarray
    train: list[np.ndarray]
    valid: np.ndarray
    test: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.items)

    @classmethod
    def from_split(
        cls, split: pd.DataFrame, catalogue: Sequence[str] | None = None
    ) -> SequenceData:
        """From a split frame (``user``, ``item``, ``position``, ``split`` columns) whose
        rows are in each user's time order (``kgstore.splits.in_time_order`` puts them so);
        users are ordered by id.

        ``catalogue`` lists every rankable item (for example all items in the graph, cold
        ones included); by default the items that occur in the split.
        """
        missing = {"user", "item", "position", "split"} - set(split.columns)
        if missing:
            raise ValueError(f"the split lacks columns {sorted(missing)}")
        items = pd.Index(pd.unique(split["item"]) if catalogue is None else list(catalogue))
        if not items.is_unique:
            raise ValueError("the item catalogue has duplicate ids")
        index = items.get_indexer(pd.Index(split["item"]))
        if (index < 0).any():
            unknown = split["item"][index < 0].iloc[0]
            raise ValueError(f"item {unknown!r} of the split is not in the catalogue")
        frame = pd.DataFrame(
            {
                "user": split["user"].to_numpy(),
                "item": index + 1,
                "position": split["position"].to_numpy(),
                "split": split["split"].to_numpy(),
            }
        )
        frame = frame.sort_values("user", kind="stable")
        _check_time_order(frame, split)
        users = pd.Index(pd.unique(frame["user"]))
        row = users.get_indexer(pd.Index(frame["user"]))
        is_train = (frame["split"] == "train").to_numpy()
        train_rows, train_items = row[is_train], frame["item"].to_numpy()[is_train]
        bounds = np.searchsorted(train_rows, np.arange(len(users) + 1))
        train = [train_items[bounds[u] : bounds[u + 1]].astype(np.int64) for u in range(len(users))]
        held = {}
        for stage in ("valid", "test"):
            target = np.zeros(len(users), dtype=np.int64)
            mask = (frame["split"] == stage).to_numpy()
            target[row[mask]] = frame["item"].to_numpy()[mask]
            held[stage] = target
        return cls(items.to_numpy(dtype=object), users.to_numpy(dtype=object), train, **held)

    def inputs(self, stage: Stage) -> list[np.ndarray]:
        """The sequence each user's ``stage`` target follows: training items, and for the
        test also the validation item."""
        if stage == "valid":
            return self.train
        return [
            np.append(seq, v) if v else seq for seq, v in zip(self.train, self.valid, strict=True)
        ]

    def targets(self, stage: Stage) -> np.ndarray:
        return self.valid if stage == "valid" else self.test

    def evaluable(self, stage: Stage) -> np.ndarray:
        """Users that have a ``stage`` target and a non-empty input sequence."""
        lengths = np.array([len(s) for s in self.inputs(stage)])
        return np.flatnonzero((self.targets(stage) > 0) & (lengths > 0))


def left_pad(sequences: Sequence[np.ndarray], max_len: int) -> Tensor:
    """The last ``max_len`` items of each sequence, right-aligned, padded with 0 on the left,
    as wide as the longest of them."""
    width = max(1, min(max_len, max((len(s) for s in sequences), default=1)))
    out = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        tail = seq[-width:]
        if len(tail):
            out[row, width - len(tail) :] = tail
    return torch.from_numpy(out)


@dataclass(frozen=True)
class Windows:
    """Next-item training examples: ``windows[i]`` (at most ``max_len + 1`` items) belongs to
    user row ``owners[i]`` and teaches its last ``learned[i]`` targets; the targets before
    them are taught by a later window, from more context."""

    owners: np.ndarray
    windows: list[np.ndarray]
    learned: np.ndarray

    def __len__(self) -> int:
        return len(self.windows)


def training_windows(
    train: Sequence[np.ndarray], max_len: int, stride: int | None = None
) -> Windows:
    """Each user's sequence cut, from its end, into windows of at most ``max_len + 1`` items
    whose ends are ``stride`` items apart, every item but the first a target exactly once.

    ``stride`` None (or ``max_len``): windows that overlap by one item, so a window's first
    targets are predicted from few items. A smaller stride starts windows more often and
    each teaches only its last ``stride`` targets, so every target is predicted from at least
    ``max_len + 1 - stride`` earlier items where the user has them (stride 1: every target
    from its whole history up to ``max_len``, as prefix-trained SASRecs learn), at about
    ``max_len / stride`` times the windows per epoch."""
    step = max_len if stride is None else stride
    if not 0 < step <= max_len:
        raise ValueError(f"the window stride must be 1 to max_len ({max_len}), not {stride}")
    owners: list[int] = []
    windows: list[np.ndarray] = []
    learned: list[int] = []
    for user, seq in enumerate(train):
        end = len(seq)
        while end >= 2:
            start = max(0, end - max_len - 1)
            owners.append(user)
            windows.append(seq[start:end])
            learned.append(end - 1 if start == 0 else min(step, end - 1))
            if start == 0:
                break
            end -= step
    return Windows(np.array(owners, dtype=np.int64), windows, np.array(learned, dtype=np.int64))


def batches(
    windows: Windows,
    batch_size: int,
    max_len: int,
    generator: np.random.Generator | None,
) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """Shuffled (when a generator is given) batches of ``(users, inputs, targets)``; inputs
    are a window without its last item, targets the window shifted by one (0 = no target:
    padding, and the targets a later window teaches)."""
    count = len(windows)
    order = np.arange(count) if generator is None else generator.permutation(count)
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        padded = left_pad([windows.windows[i] for i in chosen], max_len + 1)
        inputs, targets = padded[:, :-1], padded[:, 1:].clone()
        targets[inputs == 0] = 0  # a window's first item has no context to be predicted from
        width = targets.shape[1]
        taught = torch.from_numpy(windows.learned[chosen]).unsqueeze(1)
        targets[torch.arange(width).unsqueeze(0) < width - taught] = 0
        yield torch.from_numpy(windows.owners[chosen]), inputs, targets


def _check_time_order(frame: pd.DataFrame, split: pd.DataFrame) -> None:
    """Refuse rows out of each user's time order (by timestamp where every row has one,
    else by position): sequences read in file order would put the wrong item last."""
    timed = "timestamp" in split and split["timestamp"].notna().all()
    values = (split["timestamp"] if timed else split["position"]).to_numpy()[frame.index]
    users = frame["user"].to_numpy()
    if ((users[1:] == users[:-1]) & (values[1:] < values[:-1])).any():
        raise ValueError(
            "the split's rows are not in each user's time order; "
            "sort them first (kgstore.splits.in_time_order)"
        )
