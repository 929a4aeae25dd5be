"""Model selection shared by the training loops: keep the best state, stop when patience
runs out, optionally checkpoint the best state to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn


class BestState:
    """The best state of a model by one score.

    Args:
        patience: epochs without improvement before :meth:`update` says stop.
        higher_is_better: a validation metric (True) or a loss (False).
        min_delta: how much better a score must be to count (default :obj:`0.0`).
        checkpoint: where the best state is saved (default: kept in memory only).
    """

    def __init__(
        self,
        patience: int,
        higher_is_better: bool,
        min_delta: float = 0.0,
        checkpoint: Path | None = None,
    ) -> None:
        self.patience, self.min_delta, self.checkpoint = patience, min_delta, checkpoint
        self.sign = 1.0 if higher_is_better else -1.0
        self.score = -self.sign * float("inf")
        self.epoch = -1
        self.waited = 0
        self.state: dict[str, torch.Tensor] | None = None

    def update(self, model: nn.Module, score: float, epoch: int) -> bool:
        """Record one epoch's score; True when training should stop."""
        if self.sign * (score - self.score) > self.min_delta:
            self.score, self.epoch, self.waited = score, epoch, 0
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if self.checkpoint is not None:
                self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
                torch.save({"state": self.state, "epoch": epoch, "score": score}, self.checkpoint)
            return False
        self.waited += 1
        return self.waited >= self.patience

    def state_dict(self) -> dict[str, Any]:
        """What :meth:`load_state_dict` needs to continue from here (the best state on CPU)."""
        kept = None if self.state is None else {k: v.cpu() for k, v in self.state.items()}
        return {"score": self.score, "epoch": self.epoch, "waited": self.waited, "state": kept}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` (the best state stays on CPU until restored)."""
        self.score, self.epoch = float(saved["score"]), int(saved["epoch"])
        self.waited, self.state = int(saved["waited"]), saved["state"]

    def restore(self, model: nn.Module) -> None:
        """Load the best state into ``model`` (no-op before any update) and set eval mode."""
        if self.state is not None:
            model.load_state_dict(self.state)
        model.eval()
