"""SASRec (`Kang and McAuley, 2018 <https://arxiv.org/abs/1808.09781>`_) with two optional
inputs the method adds: item text embeddings as the item representation, and a per-user
vector (learned, or a fixed persona) fused into the sequence representation."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

Fusion = Literal["input", "output"]


class CausalBlock(nn.Module):
    """Pre-norm transformer block; each position sees itself and earlier non-padding items."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden size {hidden} is not divisible by {heads} heads")
        self.heads = heads
        self.dropout = dropout
        self.norm1 = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.norm2 = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
        )
        self.drop = nn.Dropout(dropout)

    def attend(self, x: Tensor, allowed: Tensor) -> Tensor:
        """Multi-head causal self-attention over ``x`` (B, L, C), projected back to C and
        dropped out: the block's attention branch, before its residual sum."""
        b, length, c = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.heads, -1).unbind(dim=2)
        attended = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),
            attn_mask=allowed,
            dropout_p=self.dropout if self.training else 0.0,
        )
        result: Tensor = self.drop(self.out(attended.transpose(1, 2).reshape(b, length, c)))
        return result

    def forward(self, h: Tensor, allowed: Tensor) -> Tensor:
        # h: (B, L, C); allowed: (B, 1, L, L) bool
        h = h + self.attend(self.norm1(h), allowed)
        result: Tensor = h + self.drop(self.ffn(self.norm2(h)))
        return result


class SASRec(nn.Module):
    r"""Next-item scores from a left-padded item sequence (``0`` is padding).

    Args:
        n_items: catalogue size; items are ``1..n_items``.
        hidden: model width.
        layers: transformer blocks.
        heads: attention heads.
        dropout: dropout rate.
        max_len: longest sequence read; earlier items are dropped.

        The shape's defaults live in ``recommender.config.SASRecConfig``.
        item_features: ``(n_items + 1, F)`` fixed item vectors (row 0 unused), e.g. text
            embeddings, projected to ``hidden``; default: learned item embeddings.
        n_users: learn one vector per user (the "Random" user representation).
        user_features: ``(n_users, F)`` fixed user vectors (personas), projected to
            ``hidden``. At most one of ``n_users`` and ``user_features``.
        fusion: where the user vector enters: added to every ``"input"`` position, or to
            the sequence representation just before the ``"output"`` layer
            (default :obj:`"input"`).
        item_residual: with ``item_features``, also learn a per-item offset (zero at the
            start) added to the projected vector (default :obj:`False`).
        residual_items: ``(n_items + 1,)`` bool, the items that get an offset, e.g. those
            with a training interaction (default: all). The others keep their text vector
            alone: under a full softmax an item that is never a target would otherwise learn
            an offset that only pushes it down, and a cold item could not be recommended.
        user_dropout: in training, the probability of dropping a sequence's whole user
            vector (default :obj:`0.0`). A persona is computed from all of a user's training
            items, so in training it already knows the targets it is asked to predict,
            while a held-out target is new to it; dropping it makes the model predict from
            the sequence too, not from that shortcut.
    """

    def __init__(
        self,
        n_items: int,
        *,
        hidden: int,
        layers: int,
        heads: int,
        dropout: float,
        max_len: int,
        item_features: Tensor | None = None,
        n_users: int = 0,
        user_features: Tensor | None = None,
        fusion: Fusion = "input",
        item_residual: bool = False,
        residual_items: Tensor | None = None,
        user_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if n_items < 1:
            raise ValueError("SASRec needs at least one item")
        if n_users and user_features is not None:
            raise ValueError("give n_users (learned) or user_features (fixed), not both")
        if fusion not in ("input", "output"):
            raise ValueError(f"fusion must be 'input' or 'output', not {fusion!r}")
        if not 0.0 <= user_dropout < 1.0:
            raise ValueError(f"user_dropout must be in [0, 1), not {user_dropout}")
        self.user_dropout = user_dropout
        self.n_items, self.hidden, self.max_len, self.fusion = n_items, hidden, max_len, fusion
        self.item_embedding: nn.Embedding | None = None
        self.item_projection: nn.Linear | None = None
        if item_features is None:
            self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        else:
            if item_features.shape[0] != n_items + 1:
                raise ValueError(
                    f"item_features has {item_features.shape[0]} rows, expected {n_items + 1}"
                )
            self.register_buffer("item_features", item_features.float(), persistent=True)
            self.item_projection = nn.Linear(item_features.shape[1], hidden)
            if item_residual:
                # A learned per-item offset from the text vector, starting at zero: the text
                # initialises each item, interactions refine it (e.g. with popularity).
                self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=0)
                mask = torch.ones(n_items + 1, dtype=torch.bool)
                if residual_items is not None:
                    if residual_items.shape != (n_items + 1,):
                        raise ValueError(
                            f"residual_items has shape {tuple(residual_items.shape)}, "
                            f"expected ({n_items + 1},)"
                        )
                    mask = residual_items.bool().clone()
                mask[0] = False
                # Not saved with the weights: whoever rebuilds the model knows which items
                # were trained on (the data, or a bundle's warm items).
                self.register_buffer("residual_mask", mask[:, None].float(), persistent=False)
        self.user_embedding: nn.Embedding | None = None
        self.user_projection: nn.Linear | None = None
        if n_users:
            self.user_embedding = nn.Embedding(n_users, hidden)
        elif user_features is not None:
            self.register_buffer("user_features", user_features.float(), persistent=True)
            self.user_projection = nn.Linear(user_features.shape[1], hidden)
        self.position = nn.Embedding(max_len, hidden)  # 0 = the most recent item
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([CausalBlock(hidden, heads, dropout) for _ in range(layers)])
        self.norm = nn.LayerNorm(hidden)
        self.reset_parameters()

    @property
    def uses_users(self) -> bool:
        return self.user_embedding is not None or self.user_projection is not None

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.trunc_normal_(module.weight, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                module.reset_parameters()
        if self.item_embedding is not None:
            with torch.no_grad():
                if self.item_projection is not None:
                    self.item_embedding.weight.zero_()
                self.item_embedding.weight[0].zero_()

    def item_vectors(self) -> Tensor:
        """``(n_items + 1, hidden)``: the representation of every item, padding included."""
        if self.item_projection is None:
            assert self.item_embedding is not None
            return self.item_embedding.weight
        vectors: Tensor = self.item_projection(self.get_buffer("item_features"))
        if self.item_embedding is not None:
            vectors = vectors + self.item_embedding.weight * self.get_buffer("residual_mask")
        return vectors

    def user_vectors(self, users: Tensor | None, personas: Tensor | None = None) -> Tensor | None:
        """Each row's user vector: ``personas`` ``(B, F)`` when given (a persona made for an
        anonymous session; fixed-feature models only), else the stored one of ``users``."""
        if not self.uses_users:
            return None
        if personas is not None:
            if self.user_projection is None:
                raise ValueError("only a model with fixed user features takes personas")
            given: Tensor = self.user_projection(personas.float())
            return given
        if users is None:
            raise ValueError("this model needs user indices")
        if self.user_embedding is not None:
            learned: Tensor = self.user_embedding(users)
            return learned
        assert self.user_projection is not None
        vectors: Tensor = self.user_projection(self.get_buffer("user_features")[users])
        return vectors

    def encode(
        self,
        seq: Tensor,
        users: Tensor | None = None,
        items: Tensor | None = None,
        personas: Tensor | None = None,
    ) -> Tensor:
        """``(B, L)`` item indices -> ``(B, L, hidden)`` states; state ``t`` has read items
        up to ``t`` only. ``items`` are :meth:`item_vectors` when the caller already has
        them (with text features they cost a projection of the whole catalogue)."""
        seq = seq[:, -self.max_len :]
        length = seq.shape[1]
        items = self.item_vectors() if items is None else items
        h = items[seq] * math.sqrt(self.hidden)
        positions = torch.arange(length - 1, -1, -1, device=seq.device)
        h = h + self.position(positions)[None]
        user = self.user_vectors(users, personas)
        if user is not None and self.training and self.user_dropout > 0:
            keep = torch.rand(user.shape[0], 1, device=user.device) >= self.user_dropout
            user = user * keep
        if user is not None and self.fusion == "input":
            h = h + user[:, None, :]
        present = seq > 0
        h = self.drop(h * present[..., None])
        causal = torch.ones(length, length, dtype=torch.bool, device=seq.device).tril()
        eye = torch.eye(length, dtype=torch.bool, device=seq.device)
        # A padding position may attend to itself only, so no row is fully masked.
        allowed = (causal & present[:, None, :]) | eye
        for block in self.blocks:
            h = block(h, allowed[:, None])
        out: Tensor = self.norm(h)
        if user is not None and self.fusion == "output":
            out = out + user[:, None, :]
        return out

    def forward(
        self, seq: Tensor, users: Tensor | None = None, positions: Tensor | None = None
    ) -> Tensor:
        """Training logits over all items: ``(B, L, n_items + 1)``, or ``(M, n_items + 1)`` at
        the ``M`` positions where the bool mask ``positions`` is set. Column 0 (padding)
        is ``-inf``."""
        items = self.item_vectors()
        h = self.encode(seq, users, items)
        if positions is not None:
            h = h[positions[:, -h.shape[1] :]]
        logits = h @ items.T
        return logits.index_fill(-1, torch.tensor([0], device=logits.device), float("-inf"))

    def predict(
        self,
        seq: Tensor,
        candidates: Tensor,
        users: Tensor | None = None,
        personas: Tensor | None = None,
        items: Tensor | None = None,
    ) -> Tensor:
        """Scores of ``candidates`` ``(B, C)`` after each sequence ``(B, L)``."""
        items = self.item_vectors() if items is None else items
        last = self.encode(seq, users, items, personas)[:, -1]
        scores: Tensor = torch.einsum("bc,bkc->bk", last, items[candidates])
        return scores

    def full_sort_predict(
        self,
        seq: Tensor,
        users: Tensor | None = None,
        personas: Tensor | None = None,
        items: Tensor | None = None,
    ) -> Tensor:
        """Scores of every item ``(B, n_items + 1)`` after each sequence; column 0 is
        ``-inf``. ``items`` are :meth:`item_vectors` when the caller has them cached."""
        items = self.item_vectors() if items is None else items
        scores = self.encode(seq, users, items, personas)[:, -1] @ items.T
        scores[:, 0] = float("-inf")
        return scores

    def __repr__(self) -> str:
        items = "learned" if self.item_projection is None else "features"
        if self.item_projection is not None and self.item_embedding is not None:
            items = "features+learned"
        users = (
            "none"
            if not self.uses_users
            else ("learned" if self.user_embedding is not None else "features")
        )
        return (
            f"{type(self).__name__}({self.n_items} items, hidden={self.hidden}, "
            f"items={items}, users={users}, fusion={self.fusion})"
        )
