from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from learners.early_stopping import BestState


def test_keeps_the_best_state_and_stops_after_patience(tmp_path: Path) -> None:
    model = nn.Linear(2, 1)
    best = BestState(patience=2, higher_is_better=True, checkpoint=tmp_path / "best.pt")
    scores = [0.1, 0.3, 0.2, 0.25]
    stops = []
    for epoch, score in enumerate(scores):
        with torch.no_grad():
            model.bias.fill_(score)
        stops.append(best.update(model, score, epoch))
    assert stops == [False, False, False, True]
    assert (best.score, best.epoch) == (0.3, 1)
    best.restore(model)
    assert abs(float(model.bias.detach()) - 0.3) < 1e-6 and not model.training
    assert torch.load(tmp_path / "best.pt")["epoch"] == 1


def test_a_loss_must_fall_by_min_delta() -> None:
    model = nn.Linear(2, 1)
    best = BestState(patience=1, higher_is_better=False, min_delta=0.1)
    assert not best.update(model, 1.0, 0)
    assert best.update(model, 0.95, 1)  # not 0.1 lower: no improvement, patience spent
    assert (best.score, best.epoch) == (1.0, 0)
