from __future__ import annotations

import numpy as np

from learners.sasrec.data import Windows, training_windows
from recommender.config import STRIDE_DIVISOR, stride_entry


def _cut(windows: Windows) -> list[tuple[int, list[int], int]]:
    return [
        (int(o), [int(i) for i in w], int(n))
        for o, w, n in zip(windows.owners, windows.windows, windows.learned, strict=True)
    ]


def test_the_stride_entry_appears_only_where_a_sequence_needs_more_than_one_window() -> None:
    assert stride_entry(longest=51, max_len=50) is None  # 50 targets: one window
    assert stride_entry(longest=52, max_len=50) == {"window_stride": 50 // STRIDE_DIVISOR}
    assert stride_entry(longest=9, max_len=4) == {"window_stride": 1}  # never below 1


def test_the_entry_is_left_out_exactly_where_every_stride_gives_the_same_windows() -> None:
    fits = [np.arange(1, 12), np.arange(3, 9)]  # longest: 11 items, max_len + 1
    assert stride_entry(11, 10) is None
    for stride in (1, 3, 10):
        assert _cut(training_windows(fits, 10, stride)) == _cut(training_windows(fits, 10))
    longer = [np.arange(1, 13)]  # one item more: the stride now changes the windows
    assert stride_entry(12, 10) is not None
    assert _cut(training_windows(longer, 10, 1)) != _cut(training_windows(longer, 10))
