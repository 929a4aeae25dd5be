"""Training loop for SASRec: full softmax cross-entropy (or sampled negatives), Adam,
early stopping and model selection on a validation score the caller supplies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from learners.epochs import TrainResult, run_epochs
from learners.sasrec.data import SequenceData, batches, training_windows
from learners.sasrec.model import SASRec


def train_sasrec(
    model: SASRec,
    data: SequenceData,
    validate: Callable[[SASRec], float],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int,
    negatives: int | None,
    seed: int = 0,
    device: str | None = None,
    checkpoint: Path | None = None,
    progress: bool = True,
    window_stride: int | None = None,
    resume: Path | None = None,
) -> TrainResult:
    """Train ``model`` on ``data``'s training sequences; keep the state with the best
    ``validate(model)`` (higher is better, e.g. validation NDCG@10) and stop after
    ``patience`` epochs without improvement. The model ends in its best state, in eval mode.

    Args:
        negatives: sample this many uniform negatives per position instead of the full
            softmax (for very large catalogues; default: full softmax).
        device: ``cuda``/``cpu`` (default: CUDA when available, with bfloat16 autocast).
        checkpoint: where the best state is saved (default: kept in memory only).
        window_stride: training windows start this many targets apart
            (:func:`~learners.sasrec.data.training_windows`; default: ``max_len``).
        resume: where the loop keeps its state after every epoch (:class:`Progress`): a run
            stopped part-way continues from its last finished epoch and ends as an
            uninterrupted one; the file is removed when training ends.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    windows = training_windows(data.train, model.max_len, window_stride)
    if not len(windows):
        raise ValueError("no user has two or more training items: nothing to learn from")
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)

    def train_epoch() -> float:
        total, count = 0.0, 0
        for users, inputs, targets in batches(windows, batch_size, model.max_len, rng):
            users, inputs, targets = users.to(device), inputs.to(device), targets.to(device)
            mask = targets > 0
            with torch.autocast("cuda", torch.bfloat16, enabled=device.startswith("cuda")):
                loss = _loss(model, users, inputs, targets, mask, negatives)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            total += float(loss.detach()) * int(mask.sum())
            count += int(mask.sum())
        return total / max(count, 1)

    return run_epochs(
        model, optimiser, train_epoch, lambda: validate(model), rng=rng, examples=len(windows),
        epochs=epochs, patience=patience, device=device, name="SASRec", checkpoint=checkpoint,
        progress=progress, resume=resume,
    )  # fmt: skip


def _loss(
    model: SASRec,
    users: torch.Tensor,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    negatives: int | None,
) -> torch.Tensor:
    user_rows = users if model.uses_users else None
    if negatives is None:
        logits = model(inputs, user_rows, positions=mask)
        return F.cross_entropy(logits.float(), targets[mask])
    # Sampled softmax: the target against `negatives` uniformly drawn items per position.
    items = model.item_vectors()
    h = model.encode(inputs, user_rows, items)[mask]
    positive = targets[mask]
    sampled = torch.randint(1, model.n_items + 1, (len(positive), negatives), device=h.device)
    candidates = torch.cat([positive[:, None], sampled], dim=1)
    logits = torch.einsum("mc,mkc->mk", h, items[candidates])
    hits = torch.cat(
        [torch.zeros_like(positive[:, None], dtype=torch.bool), sampled == positive[:, None]], dim=1
    )
    logits = logits.masked_fill(hits, float("-inf"))  # a negative that is the target
    labels = torch.zeros(len(positive), dtype=torch.long, device=h.device)
    return F.cross_entropy(logits.float(), labels)
