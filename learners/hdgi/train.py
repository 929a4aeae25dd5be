"""Training loop for HDGI: full batch, Adam, early stopping on the loss, checkpoints."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from learners.early_stopping import BestState
from learners.hdgi.auxiliary import (
    Auxiliaries,
    TasteReconstruction,
    attribute_profile,
    attribute_types,
    co_user_taste,
)
from learners.hdgi.data import HDGIInputs
from learners.hdgi.encoder import MetapathEncoder, user_metapaths
from learners.hdgi.inductive import PersonaMemory
from learners.hdgi.model import HDGI, shuffle_features


@dataclass
class TrainResult:
    personas: np.ndarray  # (users, hidden) float32, from the best epoch
    losses: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds_per_epoch: float = 0.0
    attention: dict[str, float] = field(default_factory=dict)
    device: str = "cpu"
    # Per (epochs, patience) of ``stops``: what training with those limits would have given.
    stopped: dict[tuple[int, int], StopPoint] = field(default_factory=dict)
    memory: PersonaMemory | None = None  # for personas of users added later (inductive)


@dataclass
class StopPoint:
    """Where a shorter run (fewer epochs or less patience) would have stopped, and its
    personas (from its best epoch, as :class:`TrainResult`'s)."""

    epochs_run: int
    best_epoch: int
    personas: np.ndarray
    memory: PersonaMemory


def train_hdgi(
    inputs: HDGIInputs,
    *,
    hidden_channels: int,
    epochs: int,
    lr: float,
    patience: int,
    taste_weight: float,
    profile_weight: float,
    max_grad_norm: float | None,
    path_norm: bool = False,
    fusion: str = "attention",
    path_dropout: float = 0.0,
    metapaths: Sequence[tuple[str, ...]] | None = None,
    stops: Sequence[tuple[int, int]] = (),
    seed: int = 0,
    device: str | None = None,
    checkpoint: Path | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train HDGI on the users of ``inputs`` and return their personas.

    The hyperparameters have no defaults here: ``recommender.config.HDGIConfig`` holds
    them.

    Args:
        hidden_channels: persona size.
        epochs: maximum epochs.
        lr: Adam learning rate.
        patience: stop after this many epochs without a lower loss.
        taste_weight: weight of the auxiliary co-user taste reconstruction
            (:mod:`learners.hdgi.auxiliary`); ``0`` leaves it out.
        profile_weight: weight of the auxiliary attribute-profile reconstruction (the
            user's attribute shares on their first ``hidden_channels`` principal
            components); ``0`` leaves it out, both at ``0`` train plain HDGI.
        max_grad_norm: gradient norm clipping; ``None`` switches it off.
        path_norm: normalise each metapath's output before the semantic attention (see
            :class:`~learners.hdgi.encoder.MetapathEncoder`).
        fusion: ``"attention"`` or ``"mean"`` over the metapaths (see the encoder).
        path_dropout: the chance a metapath is left out of a training pass.
        metapaths: the metapaths to use (default: every one the schema gives, see
            :func:`~learners.hdgi.encoder.user_metapaths`); a subset ablates the others.
        stops: ``(epochs, patience)`` limits, none above ``epochs`` and ``patience``, whose
            personas are also returned (``TrainResult.stopped``): one run gives what a run
            with each of those limits would have given, since every limit sees the same
            losses and the same best state until it stops.
        seed: seeds torch, the corruption and the initialisation (default ``0``).
        device: ``cuda``/``cpu`` (default: CUDA when available).
        checkpoint: where the best state is saved (default: not saved).
    """
    for limit_epochs, limit_patience in stops:
        if not (0 < limit_epochs <= epochs and 0 < limit_patience <= patience):
            raise ValueError(
                f"stop ({limit_epochs}, {limit_patience}) is outside the run's limits "
                f"({epochs} epochs, patience {patience})"
            )
    torch.manual_seed(seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    available = user_metapaths(inputs.type_pairs)
    if metapaths is None:
        metapaths = available
    unknown = [p for p in metapaths if tuple(p) not in available]
    if unknown or not metapaths:
        raise ValueError(f"metapaths {unknown or '(none)'} are not among {available}")
    metapaths = [tuple(p) for p in metapaths]
    encoder = MetapathEncoder(
        {t: f.shape[1] for t, f in inputs.x.items()},
        hidden_channels,
        metapaths,
        path_norm=path_norm,
        fusion=fusion,
        path_dropout=path_dropout,
    )
    generator = torch.Generator().manual_seed(seed)
    # The auxiliary targets' sparse hops and PCA run on the training device.
    data = inputs.to(device)
    terms = []
    if taste_weight > 0:
        target = co_user_taste(data.x, data.adjacency)
        terms.append(TasteReconstruction(hidden_channels, target, taste_weight))
    # A graph without attributes (users and items only) has no profile to keep.
    if profile_weight > 0 and attribute_types(data.adjacency):
        target = attribute_profile(data.adjacency, hidden_channels)
        terms.append(TasteReconstruction(hidden_channels, target, profile_weight))
    auxiliary = Auxiliaries(terms) if terms else None
    model = HDGI(
        hidden_channels,
        encoder,
        corruption=partial(shuffle_features, generator=generator),
        auxiliary=auxiliary,
    ).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    result = TrainResult(np.zeros((0, hidden_channels), np.float32), device=device)
    best = BestState(patience, higher_is_better=False, min_delta=1e-4, checkpoint=checkpoint)
    started = time.perf_counter()
    bar = tqdm(
        range(epochs),
        desc="HDGI",
        unit="epoch",
        disable=not progress,
        leave=False,
        mininterval=1.0,
    )
    for epoch in bar:
        model.train()
        optimiser.zero_grad()
        loss = model.loss(*model(data.x, data.adjacency))
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimiser.step()
        value = float(loss.detach())
        result.losses.append(value)
        bar.set_postfix(loss=f"{value:.4f}")
        stop = best.update(model, value, epoch)
        for limits in stops:
            ended = best.waited >= limits[1] or epoch + 1 >= limits[0]
            if limits not in result.stopped and (ended or stop):
                result.stopped[limits] = StopPoint(
                    epoch + 1, best.epoch, *_best_personas(model, encoder, best, data)
                )
        if stop:
            break
    result.seconds_per_epoch = (time.perf_counter() - started) / len(result.losses)
    result.best_epoch = best.epoch
    best.restore(model)
    with torch.no_grad():
        personas = model.encoder(data.x, data.adjacency)
    result.personas = personas.cpu().numpy().astype(np.float32)
    result.memory = PersonaMemory.from_encoder(encoder, data.x, data.adjacency)
    for limits in stops:  # limits that would not have stopped before this run did
        if limits not in result.stopped:
            result.stopped[limits] = StopPoint(
                len(result.losses), result.best_epoch, result.personas.copy(), result.memory
            )
    if encoder.last_attention is not None:
        result.attention = {
            "-".join(p): float(w)
            for p, w in zip(metapaths, encoder.last_attention.cpu(), strict=True)
        }
    return result


def _best_personas(
    model: HDGI, encoder: MetapathEncoder, best: BestState, data: HDGIInputs
) -> tuple[np.ndarray, PersonaMemory]:
    """The personas and memory of ``best``'s state, leaving ``model`` as it was (training
    mode)."""
    current = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best.restore(model)
    with torch.no_grad():
        personas: np.ndarray = encoder(data.x, data.adjacency).cpu().numpy()
    memory = PersonaMemory.from_encoder(encoder, data.x, data.adjacency)
    model.load_state_dict(current)
    model.train()
    return personas.astype(np.float32), memory
