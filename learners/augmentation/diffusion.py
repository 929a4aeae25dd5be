"""A denoising diffusion model over sessions in an item-embedding space, conditioned on the
session's next item, with classifier-free guidance.

A session of ``length`` items is the ``(length, dim)`` matrix of its items' (unit-norm)
embeddings; Gaussian noise is added to it (DDPM, linear variance schedule) and the model
learns to recover the clean session from the noisy one, given the embedding of the item the
session led to (predicting the clean session, as DiffuRec and Diffusion-LM do, or the noise,
as DDPM does). The condition is dropped from a share of training examples (a learned "no
condition" vector takes its place), so at sampling time the conditional and unconditional
predictions can be mixed: ``(1 + w) f(x, c) - w f(x, none)`` pushes the samples towards
sessions that lead to ``c`` (Ho and Salimans, 2022).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from tqdm import tqdm


def time_embedding(steps: Tensor, dim: int) -> Tensor:
    """``(B, dim)`` sinusoidal embedding of the diffusion steps ``(B,)``."""
    half = dim // 2
    scale = torch.exp(-math.log(10_000.0) * torch.arange(half, device=steps.device) / half)
    angles = steps.float()[:, None] * scale[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class Denoiser(nn.Module):
    """Predicts the noise in a noisy session ``(B, length, dim)`` at step ``t`` given the
    condition ``(B, dim)`` (or the learned "no condition" vector where ``drop`` is True)."""

    def __init__(self, length: int, dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.length, self.dim, self.time_dim = length, dim, 64
        self.null = nn.Parameter(torch.zeros(dim))
        self.net = nn.Sequential(
            nn.Linear(length * dim + dim + self.time_dim, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, length * dim),
        )

    def forward(self, noisy: Tensor, steps: Tensor, condition: Tensor, drop: Tensor) -> Tensor:
        condition = torch.where(drop[:, None], self.null.expand_as(condition), condition)
        features = torch.cat(
            [noisy.flatten(1), condition, time_embedding(steps, self.time_dim)], dim=1
        )
        out: Tensor = self.net(features).view_as(noisy)
        return out


PREDICTS = ("noise", "clean")


@dataclass(frozen=True)
class DiffusionConfig:
    """The diffusion model's settings (chosen before any run, not tuned)."""

    steps: int = 200  # diffusion steps T
    # DDPM's linear schedule (1e-4 to 0.02 over 1,000 steps) scaled to T steps, so that the
    # last step is pure noise, as sampling assumes (alpha_bar_T about 5e-5 for T = 200).
    beta_start: float = 5e-4
    beta_end: float = 0.1
    predict: str = "clean"  # what the denoiser outputs: "clean" sessions or "noise" (DDPM)
    hidden: int = 512
    epochs: int = 60
    batch_size: int = 256
    lr: float = 1e-3
    drop_condition: float = 0.1  # share of training examples without their condition

    def __post_init__(self) -> None:
        if self.predict not in PREDICTS:
            raise ValueError(f"predict must be one of {PREDICTS}, not {self.predict!r}")


class SessionDiffusion:
    """A :class:`Denoiser` with its noise schedule: ``fit`` on real sessions, ``sample``
    sessions that lead to given next items.

    Args:
        length: items per session.
        dim: the embedding dimension.
    """

    def __init__(self, length: int, dim: int, config: DiffusionConfig, device: str = "cpu"):
        self.config, self.device = config, device
        self.model = Denoiser(length, dim, config.hidden).to(device)
        betas = torch.linspace(config.beta_start, config.beta_end, config.steps, device=device)
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alpha_bars = torch.cumprod(self.alphas, dim=0)

    def loss(self, sessions: Tensor, conditions: Tensor, generator: torch.Generator) -> Tensor:
        """The noise-prediction loss on a batch of clean sessions and their conditions."""
        batch = len(sessions)
        steps = torch.randint(0, self.config.steps, (batch,), generator=generator)
        noise = torch.randn(sessions.shape, generator=generator)
        steps, noise = steps.to(self.device), noise.to(self.device)
        drop = (torch.rand(batch, generator=generator) < self.config.drop_condition).to(self.device)
        bar = self.alpha_bars[steps][:, None, None]
        noisy = bar.sqrt() * sessions + (1 - bar).sqrt() * noise
        goal = noise if self.config.predict == "noise" else sessions
        return F.mse_loss(self.model(noisy, steps, conditions, drop), goal)

    def fit(
        self, sessions: Tensor, conditions: Tensor, seed: int = 0, progress: bool = True
    ) -> list[float]:
        """Trains on ``sessions`` ``(N, length, dim)`` leading to ``conditions`` ``(N, dim)``;
        returns the mean loss per epoch."""
        generator = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(self.model.parameters(), lr=self.config.lr)
        losses = []
        bar = tqdm(range(self.config.epochs), desc="diffusion", unit="epoch", disable=not progress)
        self.model.train()
        for _ in bar:
            started, total = time.perf_counter(), 0.0
            order = torch.randperm(len(sessions), generator=generator)
            for start in range(0, len(order), self.config.batch_size):
                rows = order[start : start + self.config.batch_size]
                loss = self.loss(
                    sessions[rows].to(self.device), conditions[rows].to(self.device), generator
                )
                optimiser.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
                total += float(loss.detach()) * len(rows)
            losses.append(total / len(sessions))
            bar.set_postfix(loss=f"{losses[-1]:.4f}", s=f"{time.perf_counter() - started:.1f}")
        self.model.eval()
        return losses

    @torch.no_grad()
    def sample(
        self, conditions: Tensor, guidance: float, seed: int = 0, table: Tensor | None = None
    ) -> Tensor:
        """``(N, length, dim)`` sessions drawn by ancestral sampling, guided towards the
        ``conditions`` ``(N, dim)`` with weight ``guidance`` (0: the conditional model alone).

        With ``table`` ``(K, dim)`` (the vectors of the items a session may hold), every step
        snaps its estimate of the clean session to the nearest rows of ``table`` before
        stepping on (the clamping of Li et al., 2022, Diffusion-LM), so the samples stay on
        items rather than drifting between them; the result's rows are then rows of
        ``table``."""
        w = guidance
        generator = torch.Generator().manual_seed(seed)
        n = len(conditions)
        conditions = conditions.to(self.device)
        shape = (n, self.model.length, self.model.dim)
        x = torch.randn(shape, generator=generator).to(self.device)
        keep = torch.zeros(n, dtype=torch.bool, device=self.device)
        drop = torch.ones(n, dtype=torch.bool, device=self.device)
        if table is not None:
            table = table.to(self.device)
        self.model.eval()
        for t in reversed(range(self.config.steps)):
            steps = torch.full((n,), t, device=self.device)
            guided: Tensor = self.model(x, steps, conditions, keep)
            if w:
                guided = (1 + w) * guided - w * self.model(x, steps, conditions, drop)
            alpha, bar, beta = self.alphas[t], self.alpha_bars[t], self.betas[t]
            if self.config.predict == "noise":
                clean = (x - (1 - bar).sqrt() * guided) / bar.sqrt()
            else:
                clean = guided
            if table is not None:
                clean = nearest_rows(clean, table)
            if t == 0:
                return clean
            # The mean of q(x_{t-1} | x_t, clean), then DDPM's variance beta_t.
            before = self.alpha_bars[t - 1]
            x = (before.sqrt() * beta * clean + alpha.sqrt() * (1 - before) * x) / (1 - bar)
            noise = torch.randn(shape, generator=generator).to(self.device)
            x = x + beta.sqrt() * noise
        return x


def nearest_rows(vectors: Tensor, table: Tensor, chunk: int = 1024) -> Tensor:
    """Each vector of ``vectors`` ``(N, length, dim)`` replaced by the row of ``table``
    ``(K, dim)`` nearest to it in Euclidean distance (in chunks of ``chunk`` sessions)."""
    norms = (table * table).sum(dim=1)
    out = torch.empty_like(vectors)
    for start in range(0, len(vectors), chunk):
        part = vectors[start : start + chunk]
        distance = norms - 2 * part @ table.T  # |v|^2 is the same for every row
        out[start : start + chunk] = table[distance.argmin(dim=-1)]
    return out
