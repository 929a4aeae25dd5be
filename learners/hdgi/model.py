"""HDGI: Deep Graph Infomax around an injected heterogeneous encoder."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from learners.hdgi.encoder import Adjacency

EPS = 1e-15


def shuffle_features(
    x: dict[str, Tensor], generator: torch.Generator | None = None
) -> dict[str, Tensor]:
    """The corruption: rows of every node type's features permuted, structure unchanged."""
    return {
        t: f[torch.randperm(f.shape[0], generator=generator, device="cpu").to(f.device)]
        for t, f in x.items()
    }


def mean_readout(z: Tensor) -> Tensor:
    """The summary: sigmoid of the mean persona."""
    return torch.sigmoid(z.mean(dim=0))


class HDGI(nn.Module):
    r"""Heterogeneous Deep Graph Infomax (`Ren et al. <https://arxiv.org/abs/1911.08538>`_).

    Args:
        hidden_channels: persona size, the encoder's output size.
        encoder: maps ``(x_dict, adjacency)`` to target-node embeddings.
        summary: maps embeddings to one graph summary (default: :func:`mean_readout`).
        corruption: maps ``x_dict`` to corrupted features (default: :func:`shuffle_features`).
        auxiliary: maps the real embeddings to an extra loss term (default: none), e.g.
            :class:`~learners.hdgi.auxiliary.TasteReconstruction`.
    """

    def __init__(
        self,
        hidden_channels: int,
        encoder: nn.Module,
        summary: Callable[[Tensor], Tensor] = mean_readout,
        corruption: Callable[[dict[str, Tensor]], dict[str, Tensor]] = shuffle_features,
        auxiliary: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.encoder = encoder
        self.summary = summary
        self.corruption = corruption
        self.auxiliary = auxiliary
        self.weight = nn.Parameter(torch.empty(hidden_channels, hidden_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset = getattr(self.encoder, "reset_parameters", None)
        if callable(reset):
            reset()
        if self.auxiliary is not None:
            reset = getattr(self.auxiliary, "reset_parameters", None)
            if callable(reset):
                reset()
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x: dict[str, Tensor], adjacency: Adjacency) -> tuple[Tensor, Tensor, Tensor]:
        pos_z = self.encoder(x, adjacency)
        neg_z = self.encoder(self.corruption(x), adjacency)
        return pos_z, neg_z, self.summary(pos_z)

    def discriminate(self, z: Tensor, summary: Tensor) -> Tensor:
        """Logits that each row of ``z`` belongs with ``summary`` (bilinear)."""
        return z @ (self.weight @ summary)

    def loss(self, pos_z: Tensor, neg_z: Tensor, summary: Tensor) -> Tensor:
        """Binary cross-entropy: real users against the summary, corrupted ones not; plus
        the auxiliary term on the real users, when there is one."""
        pos = nn.functional.binary_cross_entropy_with_logits(
            self.discriminate(pos_z, summary), torch.ones(pos_z.shape[0], device=pos_z.device)
        )
        neg = nn.functional.binary_cross_entropy_with_logits(
            self.discriminate(neg_z, summary), torch.zeros(neg_z.shape[0], device=neg_z.device)
        )
        loss: Tensor = pos + neg
        if self.auxiliary is not None:
            loss = loss + self.auxiliary(pos_z)
        return loss

    def __repr__(self) -> str:
        extra = f", auxiliary={self.auxiliary!r}" if self.auxiliary is not None else ""
        return f"{type(self).__name__}({self.hidden_channels}, encoder={self.encoder!r}{extra})"
