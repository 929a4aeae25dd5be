"""Leave-one-out splits: per user, last interaction -> test, second-to-last -> valid."""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_INTERACTIONS_TO_EVALUATE = 3


def order_keys(interactions: pd.DataFrame) -> list[str]:
    """Sort keys for each user's interactions in time: timestamps where every interaction
    has one (ties broken by file order), file order otherwise."""
    has_time = "timestamp" in interactions and interactions["timestamp"].notna().all()
    return ["user", "timestamp", "position"] if has_time else ["user", "position"]


def leave_one_out(interactions: pd.DataFrame) -> pd.DataFrame:
    """Add a ``split`` column.

    Order is chronological where timestamps exist (ties broken by file order), file order
    otherwise. Users with fewer than three interactions keep all of them for training, since
    one cannot both train on and evaluate them.
    """
    frame = interactions.copy()
    frame = frame.sort_values(order_keys(frame), kind="stable")
    from_end = frame.groupby("user", sort=False).cumcount(ascending=False).to_numpy()
    size = frame.groupby("user", sort=False)["item"].transform("size").to_numpy()
    evaluable = size >= MIN_INTERACTIONS_TO_EVALUATE
    split = np.where(
        evaluable & (from_end == 0), "test", np.where(evaluable & (from_end == 1), "valid", "train")
    )
    frame["split"] = split
    return frame.sort_values("position", kind="stable").reset_index(drop=True)
