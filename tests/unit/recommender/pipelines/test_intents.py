"""LLM-DMsRec end to end on a tiny catalogue with the packaged models: intents inferred by
SmolLM2 from the session and a pre-trained SR-GNN's candidates, encoded by MiniLM, fused into
a model that trains and is scored by the one evaluator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from learners.sasrec.data import SequenceData, left_pad
from learners.semantics import SentenceTransformerEmbedder
from learners.semantics.generators import TransformersGenerator
from learners.sessiongraph import SRGNN
from learners.sessiongraph.llm_dmsrec import LLMDMsRec
from learners.sessiongraph.train import train_session_model
from recommender.evaluation.evaluator import rank_users
from recommender.evaluation.metrics import ndcg
from recommender.pipelines.intents import infer_intents

FILMS = [
    "Star Wars", "The Empire Strikes Back", "Return of the Jedi", "Alien", "Aliens",
    "Blade Runner", "Toy Story", "Finding Nemo", "Up", "Heat", "Casino", "Goodfellas",
]  # fmt: skip


def films(users: int = 6) -> SequenceData:
    rows = []
    for u in range(users):
        seq = [(u * 2 + k) % len(FILMS) for k in range(6)]
        for p, item in enumerate(seq):
            stage = "train" if p < 4 else ("valid" if p == 4 else "test")
            rows.append((f"u{u}", FILMS[item], p, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=FILMS)


def test_intents_are_inferred_once_and_llm_dmsrec_trains_on_them(
    minilm: SentenceTransformerEmbedder,
) -> None:
    data = films()
    titles = ["", *FILMS]
    torch.manual_seed(0)
    backbone = SRGNN(data.n_items, hidden=8, steps=1, max_len=5)
    generator = TransformersGenerator(num_threads=1)
    found = infer_intents(
        data, titles, backbone, generator, minilm, candidates=3, limit=3, progress=False
    )
    assert len(found.intents) == len(data.users)
    assert found.explicit.shape == (len(data.users), minilm.dimension)
    with_any = found.has_explicit | found.has_latent
    assert with_any.sum() + found.malformed == len(data.users)  # every answer counted
    for row in np.flatnonzero(~found.has_explicit):
        assert not found.explicit[row].any()  # no intent of a kind: a zero row
    print(found.summary(), found.intents)

    model = LLMDMsRec(
        backbone,
        torch.from_numpy(found.explicit),
        torch.from_numpy(found.latent),
        torch.from_numpy(found.has_explicit),
        torch.from_numpy(found.has_latent),
        hidden=8,
    )

    def validate(candidate: LLMDMsRec) -> float:
        def scorer(rows: np.ndarray, histories: Sequence[np.ndarray]) -> torch.Tensor:
            seq = left_pad(list(histories), candidate.max_len)
            return candidate.full_sort_predict(seq, torch.from_numpy(rows))

        return ndcg(rank_users(scorer, data, "valid"), 10)

    result = train_session_model(
        model, data.train, validate, epochs=5, batch_size=8, lr=0.01, patience=5, progress=False
    )
    assert len(result.curve) == 5 and np.isfinite([e.loss for e in result.curve]).all()
