"""HDGI: Deep Graph Infomax around an injected heterogeneous encoder."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

with warnings.catch_warnings():  # PyG's import-time use of torch.jit.script warns on torch 2.9+
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    from torch_geometric.nn import DeepGraphInfomax

from learners.hdgi.encoder import Adjacency


def shuffle_features(
    x: dict[str, Tensor], generator: torch.Generator | None = None
) -> dict[str, Tensor]:
    """The corruption: rows of every node type's features permuted, structure unchanged."""
    return {
        t: f[torch.randperm(f.shape[0], generator=generator, device="cpu").to(f.device)]
        for t, f in x.items()
    }


def mean_readout(z: Tensor, *_: object) -> Tensor:
    """The summary: sigmoid of the mean persona (further arguments, the encoder's inputs,
    are not read)."""
    return torch.sigmoid(z.mean(dim=0))


class HDGI(DeepGraphInfomax):  # type: ignore[misc]
    r"""Heterogeneous Deep Graph Infomax (`Ren et al. <https://arxiv.org/abs/1911.08538>`_):
    PyG's :class:`~torch_geometric.nn.models.DeepGraphInfomax` around a heterogeneous
    metapath encoder, with an optional auxiliary loss term.

    Two things differ from the parent: the bilinear weight starts Xavier-uniform, and the
    loss is binary cross-entropy on the logits (numerically stable, no ``EPS``) plus the
    auxiliary term.

    Args:
        hidden_channels: persona size, the encoder's output size.
        encoder: maps ``(x_dict, adjacency)`` to target-node embeddings.
        summary: maps embeddings to one graph summary (default: :func:`mean_readout`).
        corruption: maps ``x_dict`` to corrupted features; the adjacency is left as it is
            (default: :func:`shuffle_features`).
        auxiliary: maps the real embeddings to an extra loss term (default: none), e.g.
            :class:`~learners.hdgi.auxiliary.TasteReconstruction`.
    """

    def __init__(
        self,
        hidden_channels: int,
        encoder: nn.Module,
        summary: Callable[..., Tensor] = mean_readout,
        corruption: Callable[[dict[str, Tensor]], dict[str, Tensor]] = shuffle_features,
        auxiliary: nn.Module | None = None,
    ) -> None:
        self._ready = False  # the parent's constructor resets before `auxiliary` is set
        super().__init__(hidden_channels, encoder, summary, self._corrupt)
        self.feature_corruption = corruption
        self.auxiliary = auxiliary
        self._ready = True
        self.reset_parameters()

    def _corrupt(self, x: dict[str, Tensor], adjacency: Adjacency) -> tuple[object, ...]:
        return self.feature_corruption(x), adjacency

    def reset_parameters(self) -> None:
        if not self._ready:
            return
        reset = getattr(self.encoder, "reset_parameters", None)
        if callable(reset):
            reset()
        if self.auxiliary is not None:
            reset = getattr(self.auxiliary, "reset_parameters", None)
            if callable(reset):
                reset()
        nn.init.xavier_uniform_(self.weight)

    def loss(self, pos_z: Tensor, neg_z: Tensor, summary: Tensor) -> Tensor:
        """Binary cross-entropy: real users against the summary, corrupted ones not; plus
        the auxiliary term on the real users, when there is one."""
        pos = nn.functional.binary_cross_entropy_with_logits(
            self.discriminate(pos_z, summary, sigmoid=False),
            torch.ones(pos_z.shape[0], device=pos_z.device),
        )
        neg = nn.functional.binary_cross_entropy_with_logits(
            self.discriminate(neg_z, summary, sigmoid=False),
            torch.zeros(neg_z.shape[0], device=neg_z.device),
        )
        loss: Tensor = pos + neg
        if self.auxiliary is not None:
            loss = loss + self.auxiliary(pos_z)
        return loss

    def __repr__(self) -> str:
        extra = f", auxiliary={self.auxiliary!r}" if self.auxiliary is not None else ""
        return f"{type(self).__name__}({self.hidden_channels}, encoder={self.encoder!r}{extra})"
