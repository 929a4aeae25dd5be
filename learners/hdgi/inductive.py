"""Personas for users HDGI never saw, from the trained weights and the user's own edges.

A user's persona reads, per metapath, only the states of the items one hop before the path
ends (:meth:`~learners.hdgi.encoder.MetapathEncoder.item_states`) and the user's edges to
them. Those states, the path layers and the attention weights of the training users are
kept after training (:class:`PersonaMemory`); a new user's persona is then their items'
mean state through the same layers, with no parameter of their own and no retraining. A
training user re-added with their training edges gets exactly their training persona.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from learners.hdgi.encoder import Adjacency, MetapathEncoder


def memory_rows(memory_items: np.ndarray, items: Sequence[object]) -> np.ndarray:
    """The memory row of each of ``items`` (ids), -1 for an item the memory has no state
    for (one added after training)."""
    row_of = {str(item): row for row, item in enumerate(memory_items)}
    return np.array([row_of.get(str(item), -1) for item in items], np.int64)


@dataclass
class PersonaMemory:
    """What a persona needs besides the user's own items, as arrays.

    Attributes:
        states: ``(paths, items, hidden)`` each metapath's item states (rows are the item
            rows of the training graph).
        weights: ``(paths, hidden, hidden)`` and ``bias`` ``(paths, hidden)``: each path's
            output layer (``y = x W^T + b``).
        prelu: ``(hidden,)`` the PReLU slopes.
        attention: ``(paths,)`` the semantic attention's weights over the training users.
        path_norm: whether each path's output is layer-normalised.
    """

    states: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    prelu: np.ndarray
    attention: np.ndarray
    path_norm: bool

    @classmethod
    def from_encoder(
        cls, encoder: MetapathEncoder, x: dict[str, Tensor], adjacency: Adjacency
    ) -> PersonaMemory:
        """The memory of a trained ``encoder`` on its training graph."""
        with torch.no_grad():
            states = encoder.item_states(x, adjacency)
            _, attention = encoder.fuse(encoder.path_outputs(states, adjacency))
        layers = [layer for layer in encoder.path_out if isinstance(layer, torch.nn.Linear)]
        return cls(
            states=torch.stack(states).cpu().numpy().astype(np.float32),
            weights=torch.stack([la.weight for la in layers]).detach().cpu().numpy(),
            bias=torch.stack([la.bias for la in layers]).detach().cpu().numpy(),
            prelu=encoder.activation.weight.detach().cpu().numpy().astype(np.float32),
            attention=attention.cpu().numpy().astype(np.float32),
            path_norm=encoder.path_norm,
        )

    @property
    def items(self) -> int:
        return int(self.states.shape[1])

    def encode(self, user_items: Sequence[np.ndarray]) -> np.ndarray:
        """``(users, hidden)`` personas of users given the item rows each interacted with
        (repeats count as often as they occur, as the row-normalised adjacency counts edges).

        Raises:
            ValueError: a user without items, or an item row outside the memory.
        """
        for number, rows in enumerate(user_items):
            rows = np.asarray(rows)
            if rows.size == 0:
                raise ValueError(f"user {number} has no items: a persona needs interactions")
            if rows.min() < 0 or rows.max() >= self.items:
                raise ValueError(f"user {number} has an item row outside 0..{self.items - 1}")
        # Mean item state per user and path: (paths, users, hidden).
        mean = np.stack(
            [self.states[:, np.asarray(rows, np.int64)].mean(axis=1) for rows in user_items],
            axis=1,
        )
        h = np.einsum("pud,ped->pue", mean, self.weights) + self.bias[:, None, :]
        h = np.where(h >= 0, h, self.prelu * h)
        if self.path_norm:
            mu = h.mean(axis=-1, keepdims=True)
            var = h.var(axis=-1, keepdims=True)
            h = (h - mu) / np.sqrt(var + 1e-5)
        fused = (self.attention[:, None, None] * h).sum(axis=0)
        return np.asarray(fused, dtype=np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The memory as named arrays (for ``np.savez``)."""
        return {
            "states": self.states,
            "weights": self.weights,
            "bias": self.bias,
            "prelu": self.prelu,
            "attention": self.attention,
            "path_norm": np.array(self.path_norm),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PersonaMemory:
        return cls(
            states=arrays["states"],
            weights=arrays["weights"],
            bias=arrays["bias"],
            prelu=arrays["prelu"],
            attention=arrays["attention"],
            path_norm=bool(arrays["path_norm"]),
        )
