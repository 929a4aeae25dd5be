"""LLM-DMsRec's intents for every user, computed once: the pre-trained session-graph model
proposes candidates after the user's training sequence, a language model infers the user's
intents from the session's and the candidates' titles, each intent is classified explicit or
latent and encoded, and each kind is mean-pooled per user.

Only training items reach a prompt (the candidates are the model's predictions, never a
held-out item), so the same intents serve validation and test without a leak. Wrap the
generator in :class:`~learners.semantics.generators.CachedGenerator` to compute each prompt
once across runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from kgstore.node_text import readable_title
from learners.sasrec.data import SequenceData, left_pad
from learners.semantics.embedders import Embedder
from learners.semantics.generators import Generator
from learners.semantics.prompts import session_intents_prompt
from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.intents import classify_intents, parse_intents
from learners.sessiongraph.sessions import SessionCut
from recommender.util.files import atomic_path

CANDIDATES = 10  # items the pre-trained model proposes to the prompt
INTENTS = 5  # at most this many intents per session
PROMPT_ITEMS = 10  # the session's most recent items named in the prompt
MAX_NEW_TOKENS = 64


@dataclass
class SessionIntents:
    """Per user (rows of the data): the mean encoding of their explicit and latent intents
    (zero rows where they have none), and what was inferred."""

    explicit: np.ndarray
    latent: np.ndarray
    has_explicit: np.ndarray
    has_latent: np.ndarray
    intents: list[tuple[str, ...]] = field(default_factory=list)
    malformed: int = 0  # answers with no usable intent (skipped)

    def save(self, path: Path) -> None:
        """Written whole or not at all (a temporary name, then renamed)."""
        with atomic_path(path) as partial, partial.open("wb") as out:
            np.savez_compressed(
                out,
                explicit=self.explicit,
                latent=self.latent,
                has_explicit=self.has_explicit,
                has_latent=self.has_latent,
                intents=np.array(json.dumps([list(i) for i in self.intents])),
                malformed=np.array(self.malformed),
            )

    @classmethod
    def load(cls, path: Path) -> SessionIntents:
        with np.load(path) as saved:
            return cls(
                saved["explicit"],
                saved["latent"],
                saved["has_explicit"],
                saved["has_latent"],
                [tuple(i) for i in json.loads(str(saved["intents"]))],
                int(saved["malformed"]),
            )

    def summary(self) -> str:
        users = len(self.intents)
        return (
            f"{users:,} users: {int(self.has_explicit.sum()):,} with explicit intents, "
            f"{int(self.has_latent.sum()):,} with latent ones, {self.malformed:,} answers "
            "with none usable (skipped)"
        )


def infer_intents(
    data: SequenceData,
    titles: Sequence[str],
    backbone: SessionScorer,
    generator: Generator,
    embedder: Embedder,
    *,
    candidates: int = CANDIDATES,
    limit: int = INTENTS,
    batch_size: int = 16,
    users: Sequence[int] | None = None,
    cut: SessionCut | None = None,
    progress: bool = True,
) -> SessionIntents:
    """The intents of every user with a training sequence.

    Args:
        titles: per item index (``titles[k]`` for index ``k``; index 0 unused) a readable
            title.
        backbone: the pre-trained session-graph model that proposes the candidates.
        users: only these rows of the data (default: every user with a training item).
        cut: read each user's latest session (cut at inactivity gaps), not the whole
            training sequence.
    """
    wanted = range(len(data.users)) if users is None else users
    n_users = len(data.users)
    explicit = np.zeros((n_users, embedder.dimension), np.float32)
    latent = np.zeros((n_users, embedder.dimension), np.float32)
    has_e, has_l = np.zeros(n_users, bool), np.zeros(n_users, bool)
    found: list[tuple[str, ...]] = [() for _ in range(n_users)]
    malformed = 0
    active = [u for u in wanted if len(data.train[u])]
    backbone.eval()
    bar = tqdm(total=len(active), desc="intents", unit="user", disable=not progress)
    for start in range(0, len(active), batch_size):
        rows = active[start : start + batch_size]
        sessions = [data.train[u] for u in rows]
        if cut is not None:
            sessions = cut.latest(rows, sessions)
        sessions = [session[-backbone.max_len :] for session in sessions]
        with torch.no_grad():
            scores = backbone.full_sort_predict(left_pad(sessions, backbone.max_len))
        for k, session in enumerate(sessions):
            scores[k, torch.from_numpy(session)] = float("-inf")  # propose new items only
        proposed = scores.topk(min(candidates, data.n_items), dim=1).indices.numpy()
        prompts = [
            session_intents_prompt(
                [titles[i] for i in session[-PROMPT_ITEMS:]],
                [titles[i] for i in proposed[k]],
                limit,
            )
            for k, session in enumerate(sessions)
        ]
        answers = generator.generate_many(prompts, max_new_tokens=MAX_NEW_TOKENS)
        for user, session, answer in zip(rows, sessions, answers, strict=True):
            parsed = parse_intents(answer, limit)
            if parsed.malformed:
                malformed += 1
                continue
            found[user] = parsed.intents
            kinds = classify_intents(parsed.intents, [titles[i] for i in session])
            for texts, out, flags in ((kinds[0], explicit, has_e), (kinds[1], latent, has_l)):
                if texts:
                    out[user] = embedder.embed(texts).mean(axis=0)
                    flags[user] = True
        bar.update(len(rows))
    bar.close()
    return SessionIntents(explicit, latent, has_e, has_l, found, malformed)


def title_list(titles: Mapping[str, str | None], items: Iterable[str]) -> list[str]:
    """Per item index (index 0 unused) the item's readable title, its id where it has none."""
    return ["", *(readable_title(titles.get(item) or item) for item in items)]
