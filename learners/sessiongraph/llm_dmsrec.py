"""LLM-DMsRec (the seeds' ``003``): a session-graph backbone whose session vector is fused
with the encodings of the intents a language model inferred, aligned by a KL term.

The intents are computed once per user, outside training, and given here as fixed
features: per user the mean encoding of their explicit and of their latent intents, and
whether they have any of each (:mod:`learners.sessiongraph.intents` reads, classifies and
fuses them). The model is the backbone's (SR-GNN or GCE-GNN) with the fusion on top; the
loss adds ``sigma (alpha KL_e + beta KL_l)`` of the last forward pass to the
recommendation loss (:meth:`auxiliary_loss`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.intents import IntentFusion, alignment_loss

# The paper's figures: sigma peaks at 0.2; alpha 0.1 is best for P@20 (beta set alike).
SIGMA, ALPHA, BETA = 0.2, 0.1, 0.1


class LLMDMsRec(SessionScorer):
    """``backbone`` (SR-GNN or GCE-GNN) with the intents of each user fused in.

    Args:
        explicit, latent: ``(users, text_dim)`` mean intent encodings per user (zero rows
            where a user has none).
        has_explicit, has_latent: ``(users,)`` bool.
        use_explicit, use_latent, align: the paper's ablations (without explicit intents,
            without latent ones, without the KL term).
    """

    uses_users = True

    def __init__(
        self,
        backbone: SessionScorer,
        explicit: Tensor,
        latent: Tensor,
        has_explicit: Tensor,
        has_latent: Tensor,
        *,
        hidden: int,
        sigma: float = SIGMA,
        alpha: float = ALPHA,
        beta: float = BETA,
        use_explicit: bool = True,
        use_latent: bool = True,
        align: bool = True,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.item_embedding = backbone.item_embedding
        self.max_len, self.n_items = backbone.max_len, backbone.n_items
        self.register_buffer("explicit", explicit.float())
        self.register_buffer("latent", latent.float())
        self.register_buffer("has_explicit", has_explicit.bool())
        self.register_buffer("has_latent", has_latent.bool())
        self.fusion = IntentFusion(hidden, explicit.shape[1], use_explicit, use_latent)
        self.sigma, self.alpha, self.beta, self.align = sigma, alpha, beta, align
        self._auxiliary: Tensor | None = None

    def session_vectors(self, seq: Tensor, users: Tensor | None = None) -> Tensor:
        """``(B, hidden)``: the backbone's session vector fused with the users' intents."""
        if users is None:
            raise ValueError("LLM-DMsRec needs the user rows whose intents to fuse")
        structural = self.backbone.session_vectors(seq)
        has_e = self.get_buffer("has_explicit")[users]
        has_l = self.get_buffer("has_latent")[users]
        fused, e, lat = self.fusion(
            structural,
            self.get_buffer("explicit")[users],
            self.get_buffer("latent")[users],
            has_e,
            has_l,
        )
        if self.align and self.training:
            self._auxiliary = self.sigma * alignment_loss(
                structural, e, lat, has_e & self.fusion.explicit, has_l & self.fusion.latent,
                self.alpha, self.beta,
            )  # fmt: skip
        result: Tensor = fused
        return result

    def auxiliary_loss(self) -> Tensor:
        """``sigma L_info`` of the last training forward pass (0 without alignment)."""
        if self._auxiliary is None:
            return torch.zeros((), device=self.item_embedding.weight.device)
        return self._auxiliary

    def forward(self, seq: Tensor, users: Tensor | None = None) -> Tensor:
        scores: Tensor = self.session_vectors(seq, users) @ self.item_embedding.weight.T
        return scores

    def full_sort_predict(self, seq: Tensor, users: Tensor | None = None) -> Tensor:
        scores = self.forward(seq, users)
        scores[:, 0] = float("-inf")
        return scores

    def predict(self, seq: Tensor, candidates: Tensor, users: Tensor | None = None) -> Tensor:
        vectors = self.session_vectors(seq, users)
        return torch.einsum("bc,bkc->bk", vectors, self.item_embedding(candidates))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.backbone!r}, sigma={self.sigma})"


def ablations() -> dict[str, dict[str, bool]]:
    """The paper's variants by name: the settings each changes."""
    return {
        "full": {},
        "without explicit intents": {"use_explicit": False},
        "without latent intents": {"use_latent": False},
        "without KL": {"align": False},
    }
