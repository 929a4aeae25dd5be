"""Metapath encoder for users: node-level propagation along each metapath, then semantic
attention across metapaths (as HAN, the encoder HDGI uses).

A metapath is a sequence of node types from users back to users, e.g. User-Item-User or
User-Item-Genre-Item-User. It is never materialised as a (dense) user x user matrix: each
hop is one sparse, row-normalised adjacency applied to the running representation, so the
cost grows with the number of edges. At every hop the visited node type adds its own
projected features, so item and attribute text embeddings reach the users; the target
type's own (random) features only start each path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import Tensor, nn

Metapath = tuple[str, ...]
Adjacency = dict[tuple[str, str], Tensor]  # (to type, from type) -> sparse (n_to, n_from)


def user_metapaths(
    type_pairs: set[tuple[str, str]], user: str = "User", item: str = "Item"
) -> list[Metapath]:
    """Metapaths derived from which node types are linked (in either direction).

    ``User-Item-User``, plus ``User-Item-X-Item-User`` for every type ``X`` linked to items
    (``Item`` itself included when items link to items, e.g. sequels).
    """
    linked = {frozenset(pair) for pair in type_pairs}
    if frozenset((user, item)) not in linked:
        raise ValueError(f"no {user}-{item} edges: users need interactions for metapaths")
    paths: list[Metapath] = [(user, item, user)]
    neighbours = sorted({t for pair in linked if item in pair for t in pair} - {user, item})
    if frozenset((item,)) in linked:
        neighbours.append(item)
    paths += [(user, item, other, item, user) for other in neighbours]
    return paths


def attention_entropy(weights: Sequence[float]) -> float:
    """Normalised entropy of metapath weights: 0 for one path, 1 for all alike."""
    if len(weights) < 2:
        return 0.0
    p = [min(max(w, 1e-12), 1.0) for w in weights]
    return -sum(w * math.log(w) for w in p) / math.log(len(p))


class SemanticAttention(nn.Module):
    """HAN's semantic-level attention: one weight per metapath, shared by all users."""

    def __init__(self, channels: int, hidden: int = 128) -> None:
        super().__init__()
        self.project = nn.Sequential(
            nn.Linear(channels, hidden), nn.Tanh(), nn.Linear(hidden, 1, bias=False)
        )

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        # z: (P, N, C) -> weights (P,), fused (N, C)
        weights = torch.softmax(self.project(z).mean(dim=1).squeeze(-1), dim=0)
        return (weights[:, None, None] * z).sum(dim=0), weights

    def weights(self, z: Tensor, keep: Tensor) -> Tensor:
        """The weights over the paths in the bool mask ``keep`` only (the others get 0)."""
        scores = self.project(z).mean(dim=1).squeeze(-1)
        return torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=0)


class MetapathEncoder(nn.Module):
    r"""Encodes users from their metapath neighbourhoods.

    Args:
        in_channels: feature size per node type (0 for a type without features).
        hidden_channels: size of the persona (default :obj:`64`).
        metapaths: node-type sequences starting and ending at ``target``.
        target: the node type encoded (default :obj:`"User"`).
        path_norm: normalise each metapath's output (layer norm without affine terms)
            before the semantic attention, so that no path wins the attention by the scale
            of its output alone (default :obj:`False`).
        fusion: ``"attention"`` (HAN's semantic attention, default) or ``"mean"`` (every
            metapath weighs the same, so none can be shut out).
        path_dropout: in training, the chance that a metapath is left out of a forward pass
            (at least one is always kept; the others' weights are renormalised), so that
            the objective cannot be met through one view alone (default :obj:`0.0`).
    """

    def __init__(
        self,
        in_channels: dict[str, int],
        hidden_channels: int,
        metapaths: list[Metapath],
        target: str = "User",
        path_norm: bool = False,
        fusion: str = "attention",
        path_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if fusion not in ("attention", "mean"):
            raise ValueError(f"fusion must be 'attention' or 'mean', not {fusion!r}")
        if not 0.0 <= path_dropout < 1.0:
            raise ValueError(f"path_dropout must be in [0, 1), not {path_dropout}")
        self.path_norm, self.fusion, self.path_dropout = path_norm, fusion, path_dropout
        self.hidden_channels = hidden_channels
        self.metapaths = metapaths
        self.target = target
        self.project = nn.ModuleDict(
            {node_type: nn.Linear(size, hidden_channels) for node_type, size in in_channels.items()}
        )
        self.path_out = nn.ModuleList(
            [nn.Linear(hidden_channels, hidden_channels) for _ in metapaths]
        )
        self.activation = nn.PReLU(hidden_channels)
        self.semantic = SemanticAttention(hidden_channels)
        self.last_attention: Tensor | None = None

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()

    def forward(self, x: dict[str, Tensor], adjacency: Adjacency) -> Tensor:
        states = self.item_states(x, adjacency)
        outputs = self.path_outputs(states, adjacency)
        fused, weights = self.fuse(outputs, keep=self._kept_paths(len(outputs)))
        self.last_attention = weights.detach()
        return fused

    def _kept_paths(self, paths: int) -> Tensor | None:
        """In training with ``path_dropout``, which metapaths this pass uses."""
        if not self.training or self.path_dropout == 0.0:
            return None
        keep = torch.rand(paths) >= self.path_dropout
        if not keep.any():
            keep[torch.randint(paths, (1,))] = True
        return keep

    def item_states(self, x: dict[str, Tensor], adjacency: Adjacency) -> list[Tensor]:
        """Per metapath, the representation of the nodes one hop before the path ends (the
        items of ``User-...-Item-User``), their own features added: a user's persona reads
        only these and its own edges to them, which is what makes it inductive."""
        projected = {t: self.project[t](features) for t, features in x.items()}
        states = []
        for path in self.metapaths:
            h = projected[path[0]]
            for previous, current in pairwise(path[:-1]):
                h = torch.sparse.mm(adjacency[(current, previous)], h)
                # Intermediate types add their own features (item and attribute texts). The
                # target's own features are not added at the end: users start random, and
                # the discriminator would otherwise tell real from corrupted users by that
                # noise alone, leaving the persona close to its random input.
                h = h + projected[current]
            states.append(h)
        return states

    def path_outputs(self, states: list[Tensor], adjacency: Adjacency) -> list[Tensor]:
        """Each metapath's output for the target nodes: the last hop over ``adjacency``
        (row-normalised, target x last-but-one type), then the path's layer."""
        outputs = []
        for path, out, h in zip(self.metapaths, self.path_out, states, strict=True):
            h = self.activation(out(torch.sparse.mm(adjacency[(path[-1], path[-2])], h)))
            if self.path_norm:
                h = nn.functional.layer_norm(h, h.shape[-1:])
            outputs.append(h)
        return outputs

    def fuse(
        self, outputs: list[Tensor], weights: Tensor | None = None, keep: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """The fusion of the path outputs, and its weights: the semantic attention's (or
        equal ones with ``fusion="mean"``) over the paths in ``keep`` (default: all); given
        ``weights``, such as those of the training users, they are used as they are."""
        z = torch.stack(outputs)
        if weights is None:
            if self.fusion == "mean":
                kept = torch.ones(len(outputs)) if keep is None else keep.float()
                weights = (kept / kept.sum()).to(z.device)
            elif keep is None:
                fused, found = self.semantic(z)
                return fused, found
            else:
                weights = self.semantic.weights(z, keep.to(z.device))
        return (weights[:, None, None] * z).sum(dim=0), weights

    def __repr__(self) -> str:
        paths = ", ".join("-".join(p) for p in self.metapaths)
        return f"{type(self).__name__}({self.hidden_channels}, metapaths=[{paths}])"
