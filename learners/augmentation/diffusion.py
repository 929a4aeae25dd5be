"""A denoising diffusion model over sessions in an item-embedding space, conditioned on the
session's next item, with classifier-free guidance.

A session of ``length`` items is the ``(length, dim)`` matrix of its items' (unit-norm)
embeddings; the model learns to remove Gaussian noise from it (DDPM, linear variance
schedule, the noise predicted), given the embedding of the item the session led to. The
condition is dropped from a share of training examples (a learned "no condition" vector
takes its place), so at sampling time the conditional and unconditional predictions can be
mixed: ``eps = (1 + w) eps(x, c) - w eps(x, none)`` pushes the samples towards sessions
that lead to ``c`` (Ho and Salimans, 2022).
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


@dataclass(frozen=True)
class DiffusionConfig:
    """The diffusion model's settings (chosen before any run, not tuned)."""

    steps: int = 200  # diffusion steps T
    beta_start: float = 1e-4
    beta_end: float = 0.02
    hidden: int = 512
    epochs: int = 60
    batch_size: int = 256
    lr: float = 1e-3
    drop_condition: float = 0.1  # share of training examples without their condition
    guidance: float = 2.0  # w of classifier-free guidance at sampling


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
        return F.mse_loss(self.model(noisy, steps, conditions, drop), noise)

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
    def sample(self, conditions: Tensor, seed: int = 0, guidance: float | None = None) -> Tensor:
        """``(N, length, dim)`` sessions drawn by ancestral sampling, guided towards the
        ``conditions`` ``(N, dim)`` with weight ``guidance`` (default: the config's)."""
        w = self.config.guidance if guidance is None else guidance
        generator = torch.Generator().manual_seed(seed)
        n = len(conditions)
        conditions = conditions.to(self.device)
        shape = (n, self.model.length, self.model.dim)
        x = torch.randn(shape, generator=generator).to(self.device)
        keep = torch.zeros(n, dtype=torch.bool, device=self.device)
        drop = torch.ones(n, dtype=torch.bool, device=self.device)
        self.model.eval()
        for t in reversed(range(self.config.steps)):
            steps = torch.full((n,), t, device=self.device)
            guided = self.model(x, steps, conditions, keep)
            if w:
                guided = (1 + w) * guided - w * self.model(x, steps, conditions, drop)
            alpha, bar, beta = self.alphas[t], self.alpha_bars[t], self.betas[t]
            x = (x - beta / (1 - bar).sqrt() * guided) / alpha.sqrt()
            if t > 0:
                noise = torch.randn(shape, generator=generator).to(self.device)
                x = x + beta.sqrt() * noise
        return x
