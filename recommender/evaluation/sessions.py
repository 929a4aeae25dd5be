"""Anonymous sessions: a persona for a session with no user, and the evaluation of the
served pipeline on such sessions.

Two ways to give a session a persona, both used by the service and judged here the same way:

- ``neighbours``: the mean persona of the users whose training histories share most items
  with the session (:func:`session_neighbours`);
- ``encoder``: the trained HDGI encoder run on the session as if it were a user linked to its
  items (:class:`~learners.hdgi.inductive.PersonaMemory`), with no user behind it.

The evaluation turns each validation user into an anonymous visitor: the session is the last
:data:`SESSION_LENGTH` items of their training sequence, no user id reaches the models, and
the user is left out of the neighbours (they would otherwise find themselves). The target is
ranked by the served two-stage order among the items the user has not chosen (the one
evaluator's rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import torch

from learners.hdgi.inductive import PersonaMemory, memory_rows
from learners.sasrec.data import SequenceData, Stage, left_pad
from learners.sasrec.model import SASRec
from recommender.evaluation.evaluator import seen_mask
from recommender.evaluation.metrics import MISS
from recommender.evaluation.rerank import rerank, retrieve

SESSION_LENGTH = 5  # items of an evaluated anonymous session
NEIGHBOURS = 20  # users a session's neighbour persona averages

# Personas ``(B, d)`` for a batch of sessions (item indices), given the user rows the
# sessions came from (to leave them out of any neighbourhood; -1: none).
SessionPersonas = Callable[[Sequence[np.ndarray], np.ndarray], np.ndarray]


def item_users(histories: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """``(n_items + 1, users)``: who chose each item in training (a repeat counts once)."""
    lengths = [len(h) for h in histories]
    rows = np.concatenate(histories) if histories else np.zeros(0, np.int64)
    matrix = sp.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, np.repeat(np.arange(len(lengths)), lengths))),
        shape=(n_items + 1, len(lengths)),
    )
    matrix.data[:] = 1.0
    return matrix


def session_neighbours(
    chosen_by: sp.csr_matrix, items: Sequence[int], k: int = NEIGHBOURS, exclude: int = -1
) -> np.ndarray:
    """Rows of the (at most ``k``) users who share most of ``items`` in training, most
    shared first, ties by row; no user shares any: empty. ``exclude`` is never chosen."""
    spans = [chosen_by.indices[chosen_by.indptr[i] : chosen_by.indptr[i + 1]] for i in set(items)]
    overlap = np.bincount(
        np.concatenate(spans) if spans else np.zeros(0, np.int64), minlength=chosen_by.shape[1]
    )
    if 0 <= exclude < len(overlap):
        overlap[exclude] = 0
    order = np.lexsort((np.arange(len(overlap)), -overlap))
    return order[: min(k, int((overlap > 0).sum()))]


def neighbour_personas(
    personas: np.ndarray, chosen_by: sp.csr_matrix, k: int = NEIGHBOURS
) -> SessionPersonas:
    """Session personas as the mean persona of the session's neighbours (zero when none)."""

    def make(sessions: Sequence[np.ndarray], users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(sessions), personas.shape[1]), np.float32)
        for row, (session, user) in enumerate(zip(sessions, users, strict=True)):
            chosen = session_neighbours(chosen_by, session.tolist(), k, int(user))
            if len(chosen):
                out[row] = personas[chosen].mean(axis=0)
        return out

    return make


def encoder_personas(
    memory: PersonaMemory, item_rows: np.ndarray, mean: np.ndarray
) -> SessionPersonas:
    """Session personas from the trained encoder: the session as a user linked to its items
    (``item_rows[k]``: the memory's row of item index ``k``, -1 for an item it lacks), less
    the training users' ``mean`` as published personas are; zero when no item is known."""

    def make(sessions: Sequence[np.ndarray], users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(sessions), memory.weights.shape[1]), np.float32)
        known = [np.unique(item_rows[np.asarray(s, np.int64)]) for s in sessions]
        known = [rows[rows >= 0] for rows in known]
        have = [k for k, rows in enumerate(known) if len(rows)]
        if have:
            out[have] = memory.encode([known[k] for k in have]) - mean
        return out

    return make


def session_encoder(memory: dict[str, np.ndarray], items: np.ndarray) -> SessionPersonas:
    """:func:`encoder_personas` from a stored persona memory (its arrays with ``item_ids``
    and ``mean``) for a catalogue of ``items`` (index ``k + 1`` is ``items[k]``)."""
    rows = np.concatenate([[-1], memory_rows(memory["item_ids"], list(items))])
    return encoder_personas(PersonaMemory.from_arrays(memory), rows, memory["mean"])


def no_personas(dimension: int) -> SessionPersonas:
    """Every session without a persona (a zero vector)."""

    def make(sessions: Sequence[np.ndarray], users: np.ndarray) -> np.ndarray:
        return np.zeros((len(sessions), dimension), np.float32)

    return make


@torch.no_grad()
def session_ranks(
    retriever: SASRec,
    reranker: SASRec,
    data: SequenceData,
    make_personas: SessionPersonas,
    stage: Stage = "valid",
    weight: float = 0.0,
    candidates: int = 100,
    fixed_items: np.ndarray | None = None,
    session_length: int = SESSION_LENGTH,
    batch_size: int = 256,
) -> np.ndarray:
    """0-based rank of each evaluable user's ``stage`` target in the served order for the
    anonymous session of their last ``session_length`` input items, with personas from
    ``make_personas``; :data:`~recommender.evaluation.metrics.MISS` where the retriever
    missed it."""
    device = next(retriever.parameters()).device
    retriever.eval()
    reranker.eval()
    users = data.evaluable(stage)
    inputs, targets = data.inputs(stage), data.targets(stage)
    found = []
    for start in range(0, len(users), batch_size):
        rows = users[start : start + batch_size]
        sessions = [inputs[u][-session_length:] for u in rows]
        personas = torch.from_numpy(make_personas(sessions, rows)).to(device)
        seq = left_pad(sessions, retriever.max_len).to(device)
        seen = seen_mask([inputs[u] for u in rows], data.n_items, device)
        proposed, scores = retrieve(
            retriever, seq, None, candidates, exclude=seen, personas=personas
        )
        keep = None
        if fixed_items is not None:
            keep = torch.from_numpy(fixed_items).to(device)[proposed]
        # The served call (recommender.serving.recommender): the same handoff, the same order.
        ordered, _ = rerank(
            reranker,
            seq[:, -reranker.max_len :],
            proposed,
            fixed=keep,
            retriever_scores=scores,
            weight=weight,
        )
        hit = ordered == torch.from_numpy(targets[rows]).to(device)[:, None]
        rank = torch.where(hit.any(dim=1), hit.int().argmax(dim=1), -1).cpu().numpy()
        found.append(np.where(rank >= 0, rank, MISS).astype(np.int64))
    return np.concatenate(found) if found else np.zeros(0, np.int64)
