"""An auxiliary objective for HDGI: the persona must keep what predicts a user's future taste.

DGI's real-vs-shuffled task is solved early (the loss nears 0 within about a hundred epochs)
and then stops shaping the persona, which ends up close to a random projection of the
user's item texts. Tastes of co-users (users who chose the same items) predict a user's
held-out items better than the user's own items do, yet HDGI's metapaths never carry them to
a user, since users start from random codes. This term asks a linear decoder to recover that
co-user taste from the persona, computed with sparse hops from training edges only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from learners.hdgi.encoder import Adjacency


def co_user_taste(
    x: dict[str, Tensor], adjacency: Adjacency, user: str = "User", item: str = "Item"
) -> Tensor:
    """``(users, F)``: over a user's items, the mean of those items' users' mean item text
    (the User-Item-User-Item neighbourhood), standardised per feature."""
    if (user, item) not in adjacency or (item, user) not in adjacency:
        raise ValueError(f"no {user}-{item} edges: co-user taste needs interactions")
    own = torch.sparse.mm(adjacency[(user, item)], x[item])
    taste = torch.sparse.mm(adjacency[(user, item)], torch.sparse.mm(adjacency[(item, user)], own))
    standardised: Tensor = (taste - taste.mean(dim=0)) / taste.std(dim=0).clamp(min=1e-6)
    return standardised


class TasteReconstruction(nn.Module):
    """Mean squared error of a linear decoder from persona to ``target``, times ``weight``.

    Args:
        hidden_channels: persona size.
        target: ``(users, F)`` what the persona should keep (see :func:`co_user_taste`).
        weight: the term's weight against the DGI loss (default :obj:`1.0`).
    """

    def __init__(self, hidden_channels: int, target: Tensor, weight: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("target", target.detach().float(), persistent=False)
        self.decoder = nn.Linear(hidden_channels, target.shape[1])
        self.weight = weight

    def reset_parameters(self) -> None:
        self.decoder.reset_parameters()

    def forward(self, z: Tensor) -> Tensor:
        target = self.get_buffer("target")
        if z.shape[0] != target.shape[0]:
            raise ValueError(f"{z.shape[0]} personas but {target.shape[0]} targets")
        loss: Tensor = self.weight * nn.functional.mse_loss(self.decoder(z), target)
        return loss

    def __repr__(self) -> str:
        shape = tuple(self.get_buffer("target").shape)
        return f"{type(self).__name__}(weight={self.weight}, target={shape})"


def attribute_profile(
    adjacency: Adjacency, rank: int, user: str = "User", item: str = "Item"
) -> Tensor:
    """``(users, 2 * rank)``: what the user's KG neighbourhood says about them, in two halves.

    The first half is the user's attribute profile (for every attribute node, the share of
    the user's items linked to it, over all node types linked to items except users and
    items) on its first ``rank`` principal components; the second is the same for co-users,
    averaged over the users of the user's items (User-Item-User). Each half is centred and
    scaled to unit overall variance.

    The principal components keep the attributes that tell users apart (genres before single
    actors) at a size the persona can hold; the co-user half carries what anticipates
    future taste, as :func:`co_user_taste` does for the item texts."""
    if (user, item) not in adjacency or (item, user) not in adjacency:
        raise ValueError(f"no {user}-{item} edges: an attribute profile needs interactions")
    others = attribute_types(adjacency, user, item)
    if not others:
        raise ValueError(f"no node type besides {user} is linked to {item}: no attributes")
    shares = torch.sparse.mm(
        _coo(adjacency[(user, item)]), torch.cat([_linked(adjacency[(item, t)]) for t in others], 1)
    ).coalesce()
    rank = min(rank, *shares.shape)
    with warnings.catch_warnings():
        # pca_lowrank builds a sparse tensor of its own from ours, whose indices are valid.
        warnings.filterwarnings("ignore", "Sparse invariant checks are implicitly disabled")
        u, s, _ = torch.pca_lowrank(shares, q=rank, center=True, niter=4)
    own = u * s
    co_users = torch.sparse.mm(
        adjacency[(user, item)], torch.sparse.mm(adjacency[(item, user)], own)
    )
    return torch.cat([_unit(own), _unit(co_users)], dim=1)


def attribute_types(adjacency: Adjacency, user: str = "User", item: str = "Item") -> list[str]:
    """The node types linked to items, other than users and items."""
    return sorted(t for to, t in adjacency if to == item and t not in (user, item))


def _unit(x: Tensor) -> Tensor:
    centred = x - x.mean(dim=0)
    scaled: Tensor = centred / centred.std().clamp(min=1e-6)
    return scaled


def _coo(matrix: Tensor) -> Tensor:
    if matrix.layout == torch.sparse_coo:
        return matrix
    coo: Tensor = matrix.to_sparse(layout=torch.sparse_coo).coalesce()
    return coo


def _linked(matrix: Tensor) -> Tensor:
    """The 0/1 pattern of a (normalised) sparse hop."""
    coo = _coo(matrix)
    return torch.sparse_coo_tensor(
        coo.indices(), torch.ones_like(coo.values()), coo.shape, check_invariants=False
    ).coalesce()


class Auxiliaries(nn.Module):
    """The sum of several auxiliary terms, each on the same real personas."""

    def __init__(self, terms: Sequence[nn.Module]) -> None:
        super().__init__()
        self.terms = nn.ModuleList(terms)

    def reset_parameters(self) -> None:
        for term in self.terms:
            reset = getattr(term, "reset_parameters", None)
            if callable(reset):
                reset()

    def forward(self, z: Tensor) -> Tensor:
        return torch.stack([term(z) for term in self.terms]).sum()

    def __repr__(self) -> str:
        return " + ".join(repr(term) for term in self.terms)
