"""The epoch loop the sequence models share: train an epoch, score validation, keep the best
state, stop when patience runs out, and (optionally) keep the loop's state after every epoch
so that a stopped run continues from its last finished one (:class:`Progress`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from learners.early_stopping import BestState
from learners.progress import Progress, Resumed


@dataclass
class EpochLog:
    epoch: int
    loss: float
    valid: float
    seconds: float


@dataclass
class TrainResult:
    best_epoch: int = -1
    best_valid: float = float("-inf")
    curve: list[EpochLog] = field(default_factory=list)
    seconds_per_epoch: float = 0.0
    sequences_per_second: float = 0.0
    device: str = "cpu"


def run_epochs(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    train_epoch: Callable[[], float],
    validate: Callable[[], float],
    *,
    rng: np.random.Generator,
    examples: int,
    epochs: int,
    patience: int,
    device: str,
    name: str,
    checkpoint: Path | None = None,
    progress: bool = True,
    resume: Path | None = None,
) -> TrainResult:
    """Run ``train_epoch`` (one pass over the training examples, drawing its order from
    ``rng``; it returns the epoch's mean loss) then ``validate`` (higher is better) up to
    ``epochs`` times, stopping after ``patience`` epochs without improvement. The model ends
    in its best state, in eval mode.

    Args:
        examples: training examples per epoch, for the throughput figure.
        name: the progress bar's label.
        checkpoint: where the best state is saved (default: kept in memory only).
        resume: where the loop keeps its state after every epoch: a run stopped part-way
            continues from its last finished epoch and ends as an uninterrupted one; the file
            is removed when training ends.
    """
    result = TrainResult(device=device)
    best = BestState(patience, higher_is_better=True, checkpoint=checkpoint)
    kept = None if resume is None else Progress(resume)
    done = Resumed() if kept is None else kept.resume(model, optimiser, best, rng)
    result.curve = [EpochLog(**epoch) for epoch in done.curve]
    train_seconds = done.train_seconds
    bar = tqdm(range(done.epoch, epochs if not done.stopped else done.epoch), desc=name,
               unit="epoch", initial=done.epoch, total=epochs, disable=not progress,
               leave=False)  # fmt: skip
    for epoch in bar:
        model.train()
        started = time.perf_counter()
        loss = train_epoch()
        seconds = time.perf_counter() - started
        train_seconds += seconds
        model.eval()
        with torch.no_grad():
            valid = float(validate())
        result.curve.append(EpochLog(epoch, loss, valid, seconds))
        bar.set_postfix(loss=f"{loss:.3f}", valid=f"{valid:.4f}")
        stop = best.update(model, valid, epoch)
        if kept is not None:
            curve = [asdict(e) for e in result.curve]
            kept.save(model, optimiser, best, rng, Resumed(epoch + 1, curve, train_seconds, stop))
        if stop:
            break
    result.best_valid, result.best_epoch = best.score, best.epoch
    epochs_run = len(result.curve)
    result.seconds_per_epoch = train_seconds / epochs_run
    result.sequences_per_second = examples * epochs_run / max(train_seconds, 1e-9)
    best.restore(model)
    if kept is not None:
        kept.clear()
    return result
