"""Sessions cut at inactivity gaps, for data with timestamps (as the LLM-DMsRec paper cuts
MovieLens): a user's sequence is split wherever two consecutive interactions are more than
``gap`` seconds apart.

- **Training**: every prefix of every session predicts the session's next item; no example
  reaches across a gap (:meth:`SessionCut.examples`).
- **Evaluation**: the model reads the user's latest session only, the items since the last
  gap in their history (:meth:`SessionCut.latest`); every user is still ranked, so the one
  evaluator and its targets are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Timeline:
    """Per user (rows of the data, ordered as ``users``): the timestamps of the training
    items in order, and of the validation item (NaN where there is none)."""

    train: list[np.ndarray]
    valid: np.ndarray

    @classmethod
    def from_split(cls, split: pd.DataFrame, users: Sequence[str] | np.ndarray) -> Timeline:
        """From a split frame in each user's time order (``user``, ``split`` and
        ``timestamp`` columns), aligned with ``users`` (the data's user order)."""
        if "timestamp" not in split or split["timestamp"].isna().any():
            raise ValueError(
                "inactivity-gap sessions need a timestamp on every interaction; this dataset "
                "has none (or some are missing)"
            )
        frame = split[split["split"].isin(["train", "valid"])].sort_values("user", kind="stable")
        by_user = {
            str(user): group for user, group in frame.groupby("user", sort=False, observed=True)
        }
        train, valid = [], np.full(len(users), np.nan)
        for row, user in enumerate(users):
            group = by_user.get(str(user))
            if group is None:
                train.append(np.zeros(0))
                continue
            stage = group["split"].to_numpy()
            times = group["timestamp"].to_numpy(dtype=float)
            train.append(times[stage == "train"])
            if (stage == "valid").any():
                valid[row] = times[stage == "valid"][0]
        return cls(train, valid)

    def history(self, user: int, length: int) -> np.ndarray:
        """The timestamps of the first ``length`` items of the user's history (training
        items, then the validation item)."""
        times = self.train[user]
        if length > len(times):
            times = np.append(times, self.valid[user])
        return times[:length]


def session_starts(times: np.ndarray, gap: float) -> np.ndarray:
    """``(n,)`` bool: True where a session starts (the first item, and every item more than
    ``gap`` seconds after the one before)."""
    starts = np.ones(len(times), bool)
    starts[1:] = np.diff(np.asarray(times, float)) > gap
    return starts


@dataclass(frozen=True)
class SessionCut:
    """Sessions of the users' sequences, cut wherever consecutive items are more than
    ``gap_seconds`` apart."""

    timeline: Timeline
    gap_seconds: float

    def __post_init__(self) -> None:
        if self.gap_seconds <= 0:
            raise ValueError(f"the inactivity gap must be positive, not {self.gap_seconds}")

    def examples(self, train: Sequence[np.ndarray]) -> np.ndarray:
        """``(m, 3)`` ``(user, start, end)``: the session ``train[user][start:end]`` predicts
        ``train[user][end]``, for every item that is not the first of its session. Users
        beyond the timeline (generated sequences) are one session each."""
        rows = []
        known = len(self.timeline.train)
        for user, seq in enumerate(train):
            times = self.timeline.train[user][: len(seq)] if user < known else np.zeros(len(seq))
            starts = session_starts(times, self.gap_seconds)
            first = np.maximum.accumulate(np.where(starts, np.arange(len(seq)), 0))
            rows += [(user, first[end], end) for end in range(1, len(seq)) if not starts[end]]
        return np.array(rows, np.int64).reshape(-1, 3)

    def latest(
        self, rows: Sequence[int] | np.ndarray, histories: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        """Each history cut to its latest session."""
        cut = []
        for user, history in zip(rows, histories, strict=True):
            starts = session_starts(
                self.timeline.history(int(user), len(history)), self.gap_seconds
            )
            cut.append(history[int(np.flatnonzero(starts)[-1]) :] if len(history) else history)
        return cut
