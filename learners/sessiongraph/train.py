"""Training loop for the session-graph models: every prefix of every training sequence is a
session whose next click is the target; full softmax cross-entropy, Adam, early stopping and
model selection on a validation score the caller supplies (as SASRec's loop)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from learners.epochs import TrainResult, run_epochs
from learners.sasrec.data import left_pad
from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.llm_dmsrec import LLMDMsRec

SessionModel = TypeVar("SessionModel", bound=SessionScorer)


def prefixes(train: Sequence[np.ndarray], every: bool = True) -> np.ndarray:
    """``(m, 3)`` ``(user, start, end)``: the session ``train[user][start:end]`` predicts
    ``train[user][end]``. With ``every`` (prefix augmentation, the default), for every
    position but each sequence's first; without, only each sequence's last item is a target.
    """
    rows = [
        (u, 0, end)
        for u, seq in enumerate(train)
        for end in (range(1, len(seq)) if every else range(max(1, len(seq) - 1), len(seq)))
    ]
    return np.array(rows, np.int64).reshape(-1, 3)


def prefix_batches(
    train: Sequence[np.ndarray],
    examples: np.ndarray,
    batch_size: int,
    max_len: int,
    generator: np.random.Generator | None,
) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """Shuffled (when a generator is given) batches of the sessions' user rows, the
    left-padded sessions (at most ``max_len`` clicks) and their next items."""
    order = np.arange(len(examples)) if generator is None else generator.permutation(len(examples))
    for start in range(0, len(order), batch_size):
        chosen = examples[order[start : start + batch_size]]
        sessions = [train[u][max(start, end - max_len) : end] for u, start, end in chosen]
        targets = torch.from_numpy(np.array([train[u][end] for u, _, end in chosen], np.int64))
        yield torch.from_numpy(chosen[:, 0].copy()), left_pad(sessions, max_len), targets


def train_session_model(
    model: SessionModel,
    train: Sequence[np.ndarray],
    validate: Callable[[SessionModel], float],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str | None = None,
    checkpoint: Path | None = None,
    progress: bool = True,
    examples: np.ndarray | None = None,
    resume: Path | None = None,
) -> TrainResult:
    """Train ``model`` on ``examples`` ``(user, start, end)`` of the ``train`` sequences
    (default: every prefix, :func:`prefixes`); keep the state with the best
    ``validate(model)`` (higher is better) and stop after ``patience`` epochs without
    improvement. The model ends in its best state, in eval mode. With ``resume``, the loop
    keeps its state there after every epoch and continues from it, as SASRec's does
    (:func:`~learners.sasrec.train.train_sasrec`)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    examples = prefixes(train) if examples is None else examples
    if len(examples) == 0:
        raise ValueError("no sequence has two or more training items: nothing to learn from")
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def train_epoch() -> float:
        total = 0.0
        for users, sessions, targets in prefix_batches(
            train, examples, batch_size, model.max_len, rng
        ):
            rows = users.to(device) if model.uses_users else None
            scores = model.full_sort_predict(sessions.to(device), rows)
            loss = F.cross_entropy(scores, targets.to(device))
            if isinstance(model, LLMDMsRec):
                loss = loss + model.auxiliary_loss()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            total += float(loss.detach()) * len(targets)
        return total / len(examples)

    return run_epochs(
        model, optimiser, train_epoch, lambda: validate(model), rng=rng, examples=len(examples),
        epochs=epochs, patience=patience, device=device, name=type(model).__name__,
        checkpoint=checkpoint, progress=progress, resume=resume,
    )  # fmt: skip
