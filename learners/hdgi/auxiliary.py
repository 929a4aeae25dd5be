"""An auxiliary objective for HDGI: the persona must keep what predicts a user's future taste.

DGI's real-vs-shuffled task is solved early (the loss nears 0 within about a hundred epochs)
and then stops shaping the persona, which ends up close to a random projection of the
user's item texts. Tastes of co-users (users who chose the same items) predict a user's
held-out items better than the user's own items do, yet HDGI's metapaths never carry them to
a user, since users start from random codes. This term asks a linear decoder to recover that
co-user taste from the persona, computed with sparse hops from training edges only.
"""

from __future__ import annotations

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
