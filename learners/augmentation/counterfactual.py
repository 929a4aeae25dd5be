"""Counterfactual sessions that lead to less popular items (the seeds' ``002``): a diffusion
model learns what training sessions look like given the item they led to, then draws
sessions for items of the popularity tail, which become extra training sequences.

- **Sessions** are windows of ``length`` consecutive training items followed by their next
  training item (the condition), in the space of a trained model's item embeddings
  (unit-norm).
- **Targets** of the counterfactual sessions are drawn uniformly from the tail (items
  outside the head, :func:`learners.popularity.head_mask`) that occur as a training target,
  so the condition was seen in training.
- **Items** of a generated session are the nearest training items to the generated vectors
  (never the session's own target); only items that occur in the training sequences can
  appear, so no validation or test interaction reaches training through the augmentation.
  Sampling snaps each step's estimate of the clean session to those items (``snap``).
- **Guidance** is calibrated on training data only: the smallest weight whose generated
  sessions point at their targets (:func:`coherence`) at least as much as the real training
  windows that lead to a tail item do, so that in this respect the generated sessions look
  like real ones.
- The generated sessions are appended as extra users with training sequences only: they are
  never evaluated and no real user's sequence changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from learners.augmentation.diffusion import DiffusionConfig, SessionDiffusion
from learners.popularity import HEAD_SHARE, head_mask, item_popularity
from learners.sasrec.data import SequenceData

PREFIX = "augmented:"  # user id prefix of the generated sessions


GUIDANCES = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0)  # the calibration's candidates, smallest first


@dataclass(frozen=True)
class AugmentConfig:
    """How many counterfactual sessions, of what length, and how strongly guided (chosen
    before any run, not tuned on validation or test)."""

    length: int = 5  # items before the target
    ratio: float = 0.5  # generated sessions per user with a training sequence
    head_share: float = HEAD_SHARE
    # Classifier-free guidance weight; None: calibrated on the training sessions, the
    # smallest of GUIDANCES whose sessions point at their targets as much as real ones do.
    guidance: float | None = None
    calibration: int = 512  # generated sessions the calibration scores per candidate weight
    snap: bool = False  # every sampling step snaps its clean estimate to items (Diffusion-LM)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)

    def __post_init__(self) -> None:
        if self.length < 1:
            raise ValueError(f"a session needs at least one item, not {self.length}")
        if self.ratio <= 0:
            raise ValueError(f"the ratio of generated sessions must be positive, not {self.ratio}")
        if self.guidance is not None and self.guidance < 0:
            raise ValueError(f"the guidance weight cannot be negative, not {self.guidance}")


@dataclass(frozen=True)
class Counterfactuals:
    """Generated sessions and how they were drawn."""

    sessions: list[np.ndarray]  # each ``length`` items, then its (tail) target
    guidance: float  # the weight they were drawn with
    coherence: float  # :func:`coherence` of the sessions
    real_coherence: float  # :func:`coherence` of the real training windows with tail targets


def session_windows(train: Sequence[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """``(N, length)`` windows of consecutive training items and ``(N,)`` the item after
    each: every full window of every training sequence."""
    contexts, targets = [], []
    for seq in train:
        seq = np.asarray(seq, np.int64)
        if len(seq) <= length:
            continue
        view = np.lib.stride_tricks.sliding_window_view(seq, length + 1)
        contexts.append(view[:, :length])
        targets.append(view[:, length])
    if not contexts:
        raise ValueError(
            f"no training sequence has {length + 1} items: nothing to learn sessions of "
            f"{length} items from (choose a shorter length)"
        )
    return np.concatenate(contexts), np.concatenate(targets)


def counterfactual_sessions(
    train: Sequence[np.ndarray],
    n_items: int,
    embeddings: torch.Tensor,
    config: AugmentConfig,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> Counterfactuals:
    """Generated training sequences (``length`` items, then a tail target), about
    ``ratio`` per user with a training sequence.

    Args:
        embeddings: ``(n_items + 1, dim)`` item embeddings of a trained model (row 0 unused).
    """
    contexts, targets = session_windows(train, config.length)
    unit = F.normalize(embeddings.detach().float().cpu(), dim=-1)
    # Unit vectors have a per-dimension spread of 1/sqrt(dim); the diffusion's noise schedule
    # assumes about 1, so the sessions are scaled up (the nearest items are the same).
    scaled = unit * unit.shape[1] ** 0.5
    torch.manual_seed(seed)  # the denoiser's initial weights
    diffusion = SessionDiffusion(config.length, unit.shape[1], config.diffusion, device)
    diffusion.fit(scaled[torch.from_numpy(contexts)], scaled[torch.from_numpy(targets)], seed,
                  progress)  # fmt: skip
    popularity = item_popularity(train, n_items)
    tail = ~head_mask(popularity, config.head_share)
    seen_targets = np.zeros(n_items + 1, bool)
    seen_targets[targets] = True
    pool = np.flatnonzero(tail & seen_targets)
    # The reference: real training windows that lead to a tail item, as the generated do.
    windows = np.concatenate([contexts, targets[:, None]], axis=1)[tail[targets]]
    real = coherence(list(windows), unit)
    guidance = config.guidance if config.guidance is not None else GUIDANCES[-1]
    if not len(pool):
        return Counterfactuals([], guidance, 0.0, real)
    rng = np.random.default_rng(seed)
    users = sum(1 for seq in train if len(seq))
    chosen = rng.choice(pool, size=max(1, round(config.ratio * users)))
    allowed = np.flatnonzero(popularity > 0)

    def draw(targets: np.ndarray, w: float) -> list[np.ndarray]:
        table = scaled[torch.from_numpy(allowed)] if config.snap else None
        vectors = diffusion.sample(scaled[torch.from_numpy(targets)], w, seed, table)
        return nearest_items(vectors.cpu(), unit, allowed, targets)

    if config.guidance is None:  # the smallest weight whose sessions are as coherent as real
        probe = chosen[: config.calibration]
        for w in GUIDANCES:
            guidance = w
            if coherence(draw(probe, w), unit) >= real:
                break
    sessions = draw(chosen, guidance)
    return Counterfactuals(sessions, guidance, coherence(sessions, unit), real)


def nearest_items(
    vectors: torch.Tensor, unit: torch.Tensor, allowed: np.ndarray, targets: np.ndarray
) -> list[np.ndarray]:
    """Each generated session ``(N, length, dim)`` as the ``allowed`` items (by cosine to
    ``unit`` item vectors) nearest to its vectors, never its own target, then the target."""
    similarity = F.normalize(vectors, dim=-1) @ unit[torch.from_numpy(allowed)].T
    own = torch.from_numpy(np.searchsorted(allowed, targets))  # each target's column
    similarity[torch.arange(len(targets)), :, own] = float("-inf")  # never the target itself
    items = allowed[similarity.argmax(dim=-1).numpy()]
    return [
        np.append(row, target).astype(np.int64) for row, target in zip(items, targets, strict=True)
    ]


def augmented(data: SequenceData, sessions: Sequence[np.ndarray]) -> SequenceData:
    """``data`` with each session appended as a user with that training sequence and no
    validation or test target (so never evaluated)."""
    extra = len(sessions)
    return SequenceData(
        data.items,
        np.concatenate([data.users, np.array([f"{PREFIX}{k}" for k in range(extra)], object)]),
        [*data.train, *(np.asarray(s, np.int64) for s in sessions)],
        np.concatenate([data.valid, np.zeros(extra, data.valid.dtype)]),
        np.concatenate([data.test, np.zeros(extra, data.test.dtype)]),
    )


def coherence(sessions: Sequence[np.ndarray], embeddings: torch.Tensor) -> float:
    """Mean cosine between a session's mean item vector and its last item (the target):
    how much the sessions point at what they lead to (near 0 for random sessions)."""
    if not len(sessions):
        return 0.0
    unit = F.normalize(embeddings.detach().float().cpu(), dim=-1)
    rows = torch.from_numpy(np.stack([np.asarray(s, np.int64) for s in sessions]))
    context = F.normalize(unit[rows[:, :-1]].mean(dim=1), dim=-1)
    return float((context * unit[rows[:, -1]]).sum(dim=-1).mean())
