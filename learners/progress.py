"""A training loop's state after each epoch, on disk, so that a run stopped part-way (a
killed process, a machine handed back) continues from its last finished epoch and ends
exactly as an uninterrupted run would: the model, the optimiser, the best state so far, both
random generators (the batches' order and dropout) and whatever the loop logs per epoch."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from learners.early_stopping import BestState


@dataclass
class Resumed:
    """Where a loop stands: the next epoch, the per-epoch log so far (plain dicts), the
    training seconds so far, and whether it had already stopped early."""

    epoch: int = 0
    curve: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0
    stopped: bool = False


class Progress:
    """One training run's state between epochs, in one file.

    Args:
        path: the file; written whole under another name and renamed, so a run killed while
            saving keeps the previous epoch's state.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(
        self,
        model: nn.Module,
        optimiser: torch.optim.Optimizer,
        best: BestState,
        rng: np.random.Generator,
        done: Resumed,
    ) -> None:
        """The state after ``done.epoch - 1`` finished epochs."""
        state = {
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "best": best.state_dict(),
            "numpy": rng.bit_generator.state,
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "done": asdict(done),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        torch.save(state, partial)
        os.replace(partial, self.path)

    def resume(
        self,
        model: nn.Module,
        optimiser: torch.optim.Optimizer,
        best: BestState,
        rng: np.random.Generator,
    ) -> Resumed:
        """Put the saved state back into the loop's objects and say where the loop stands
        (epoch 0 when nothing was saved)."""
        if not self.path.exists():
            return Resumed()
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        best.load_state_dict(state["best"])
        rng.bit_generator.state = state["numpy"]
        torch.set_rng_state(state["torch"])
        if state["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
        return Resumed(**state["done"])

    def clear(self) -> None:
        """Forget the state: the run has finished."""
        self.path.unlink(missing_ok=True)
