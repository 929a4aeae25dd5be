from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import Tensor

from learners.sasrec.data import SequenceData, Stage
from learners.sasrec.model import SASRec
from recommender.evaluation.evaluator import seen_mask
from recommender.evaluation.metrics import MISS
from recommender.evaluation.ranking import full_ranks, ranks_by_weight, reranked_ranks
from recommender.evaluation.rerank import blend, rerank, retrieve


class FixedScores(SASRec):
    """A SASRec whose scores come from a table (one row per user, set by the test), so
    the ranking and handoff logic can be checked by hand."""

    def __init__(self, table: Tensor, by_last_item: bool = False) -> None:
        super().__init__(table.shape[1] - 1, hidden=4, layers=1, heads=1, dropout=0.0, max_len=5)
        self.table, self.by_last_item = table, by_last_item

    def full_sort_predict(
        self,
        seq: Tensor,
        users: Tensor | None = None,
        personas: Tensor | None = None,
        items: Tensor | None = None,
    ) -> Tensor:
        rows = seq[:, -1] if self.by_last_item else torch.arange(len(seq))
        scores = self.table[rows].clone()
        scores[:, 0] = float("-inf")
        return scores

    def predict(
        self,
        seq: Tensor,
        candidates: Tensor,
        users: Tensor | None = None,
        personas: Tensor | None = None,
        items: Tensor | None = None,
    ) -> Tensor:
        return self.full_sort_predict(seq, users, personas, items).gather(1, candidates)


def data() -> SequenceData:
    # One user: trains on a, b; validation c; test d. Catalogue a..f (indices 1..6).
    frame = pd.DataFrame(
        [("u", x, p, s) for p, (x, s) in enumerate(
            [("a", "train"), ("b", "train"), ("c", "valid"), ("d", "test")])],
        columns=["user", "item", "position", "split"],
    )  # fmt: skip
    return SequenceData.from_split(frame, catalogue=list("abcdef"))


def test_seen_items_are_excluded_from_full_ranking() -> None:
    # Scores by index: b (seen) scores highest, then c, then the rest.
    table = torch.tensor([[0.0, 1.0, 9.0, 5.0, 4.0, 3.0, 2.0]])
    ranks = full_ranks(FixedScores(table), data(), "valid")
    assert ranks.tolist() == [0]  # c is first once a and b are excluded
    ranks = full_ranks(FixedScores(table), data(), "test")
    assert ranks.tolist() == [0]  # d after excluding a, b and c (the validation item)
    mask = seen_mask([np.array([1, 2])], 6, "cpu")
    assert mask.tolist() == [[False, True, True, False, False, False, False]]


def test_retrieve_then_rerank_reorders_only_the_candidates() -> None:
    retriever_scores = torch.tensor([[0.0, 1.0, 9.0, 8.0, 7.0, 6.0, 5.0]])
    seq = torch.tensor([[1, 2]])
    seen = seen_mask([np.array([1, 2])], 6, "cpu")
    candidates, _ = retrieve(FixedScores(retriever_scores), seq, None, k=3, exclude=seen)
    assert candidates.tolist() == [[3, 4, 5]]
    reranker_scores = torch.tensor([[0.0, 50.0, 50.0, 1.0, 3.0, 2.0, 99.0]])
    ordered, scores = rerank(FixedScores(reranker_scores), seq, candidates)
    # Item 6 scores highest with the reranker but was never proposed, so it stays out.
    assert ordered.tolist() == [[4, 5, 3]] and scores.tolist() == [[3.0, 2.0, 1.0]]


def test_rerank_keeps_the_retriever_order_on_ties() -> None:
    candidates = torch.tensor([[5, 2, 4]])
    flat = FixedScores(torch.zeros(1, 7))
    ordered, _ = rerank(flat, torch.tensor([[1]]), candidates)
    assert ordered.tolist() == [[5, 2, 4]]


def test_reranked_ranks_and_misses() -> None:
    d = data()
    retriever = FixedScores(torch.tensor([[0.0, 1.0, 9.0, 8.0, 6.0, 7.0, 5.0]]))
    reranker = FixedScores(torch.tensor([[0.0, 0.0, 0.0, 1.0, 3.0, 2.0, 0.0]]))
    # Valid target c (3): the retriever proposes c, e, d; the reranker orders d, e, c.
    assert reranked_ranks(retriever, reranker, d, "valid", candidates=3).tolist() == [2]
    # With two candidates (c, e) the order is e, c.
    assert reranked_ranks(retriever, reranker, d, "valid", candidates=2).tolist() == [1]
    # Test target d (4): one candidate, e (c is now seen), so d is missed.
    assert reranked_ranks(retriever, reranker, d, "test", candidates=1).tolist() == [MISS]


def test_fixed_candidates_keep_their_slot_and_the_rest_are_reordered() -> None:
    # Candidates 3, 4, 5, 6 in the retriever's order; 4 is cold (fixed) and keeps slot 1.
    candidates = torch.tensor([[3, 4, 5, 6]])
    reranker = FixedScores(torch.tensor([[0.0, 0.0, 0.0, 1.0, 99.0, 2.0, 3.0]]))
    fixed = torch.tensor([[False, True, False, False]])
    ordered, scores = rerank(reranker, torch.tensor([[1]]), candidates, fixed=fixed)
    assert ordered.tolist() == [[6, 4, 5, 3]]
    assert scores.tolist() == [[3.0, 99.0, 2.0, 1.0]]
    # Nothing fixed: the plain reranker order; everything fixed: the retriever's order.
    none = rerank(
        reranker, torch.tensor([[1]]), candidates, fixed=torch.zeros(1, 4, dtype=torch.bool)
    )
    assert none[0].tolist() == [[4, 6, 5, 3]]
    every = rerank(
        reranker, torch.tensor([[1]]), candidates, fixed=torch.ones(1, 4, dtype=torch.bool)
    )
    assert every[0].tolist() == [[3, 4, 5, 6]]


def test_reranked_ranks_with_fixed_items() -> None:
    d = data()
    retriever = FixedScores(torch.tensor([[0.0, 1.0, 9.0, 8.0, 6.0, 7.0, 5.0]]))
    reranker = FixedScores(torch.tensor([[0.0, 0.0, 0.0, 1.0, 3.0, 2.0, 0.0]]))
    # Proposed c, e, d; c (3) fixed keeps slot 0, so target c is ranked first.
    fixed = np.zeros(7, dtype=bool)
    fixed[3] = True
    assert reranked_ranks(
        retriever, reranker, d, "valid", candidates=3, fixed_items=fixed
    ).tolist() == [0]


def test_blend_weighs_the_two_stages_log_probabilities() -> None:
    reranker_scores = torch.tensor([[1.0, 2.0, 3.0]])
    retriever_scores = torch.tensor([[80.0, 70.0, 60.0]])  # another scale: 10x the logits
    blended = blend(reranker_scores, retriever_scores, 0.25)
    expected = 0.75 * torch.log_softmax(reranker_scores, 1) + 0.25 * torch.log_softmax(
        retriever_scores, 1
    )
    assert torch.allclose(blended, expected)
    assert torch.equal(blend(reranker_scores, retriever_scores, 0.0), reranker_scores)
    assert torch.equal(blend(reranker_scores, retriever_scores, 1.0), retriever_scores)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        blend(reranker_scores, retriever_scores, 1.5)


def test_reranked_ranks_with_a_retriever_weight() -> None:
    d = data()
    retriever = FixedScores(torch.tensor([[0.0, 1.0, 9.0, 8.0, 6.0, 7.0, 5.0]]))
    reranker = FixedScores(torch.tensor([[0.0, 0.0, 0.0, 1.0, 3.0, 2.0, 0.0]]))
    # Proposed c, e, d (retriever 8, 7, 6; reranker 1, 2, 3). At weight w the blend is
    # (1 - w) * reranker + w * retriever up to a constant: at 0.25 it is 2.75, 3.25, 3.75
    # (target c last), at 0.75 it is 6.25, 5.75, 5.25 (c first).
    found = ranks_by_weight(retriever, reranker, d, "valid", (0.0, 0.25, 0.75, 1.0), candidates=3)
    assert {w: r.tolist() for w, r in found.items()} == {
        0.0: [2],
        0.25: [2],
        0.75: [0],
        1.0: [0],
    }
    for weight, ranks in found.items():
        alone = reranked_ranks(retriever, reranker, d, "valid", candidates=3, weight=weight)
        assert alone.tolist() == ranks.tolist()
    with pytest.raises(ValueError, match="needs the retriever's scores"):
        rerank(reranker, torch.tensor([[1]]), torch.tensor([[3, 4]]), weight=0.5)


class PerUserScores(FixedScores):
    """Scores looked up by the user's row, as a model with a user vector would give them."""

    @property
    def uses_users(self) -> bool:
        return True

    def full_sort_predict(
        self,
        seq: Tensor,
        users: Tensor | None = None,
        personas: Tensor | None = None,
        items: Tensor | None = None,
    ) -> Tensor:
        assert users is not None, "the evaluator must pass each batch's user rows"
        scores = self.table[users].clone()
        scores[:, 0] = float("-inf")
        return scores


def numpy_reranked(
    retriever: np.ndarray, reranker: np.ndarray, data: SequenceData, stage: str, c: int, w: float
) -> list[int]:
    """The two-stage rule as a loop: the retriever's top ``c`` unseen items, ordered by the
    blend of both stages' log-probabilities over those candidates (stable)."""
    inputs, targets = data.inputs(stage), data.targets(stage)  # type: ignore[arg-type]
    ranks = []
    for u in data.evaluable(stage):  # type: ignore[arg-type]
        seen = set(inputs[u].tolist())
        unseen = [i for i in range(1, data.n_items + 1) if i not in seen]
        proposed = sorted(unseen, key=lambda i: -retriever[u, i])[:c]

        def log_softmax(values: np.ndarray) -> np.ndarray:
            top = float(values.max())
            return np.asarray(values - top - np.log(np.exp(values - top).sum()))

        blended = (1 - w) * log_softmax(reranker[u, proposed]) + w * log_softmax(
            retriever[u, proposed]
        )
        order = [proposed[k] for k in np.argsort(-blended, kind="stable")]
        ranks.append(order.index(targets[u]) if targets[u] in order else MISS)
    return ranks


@pytest.mark.parametrize("batch_size", [1, 2, 512])
def test_both_paths_match_plain_loops_for_several_users(batch_size: int) -> None:
    from tests.unit.recommender.evaluation.test_evaluator import numpy_ranks, users_data

    d = users_data()
    rng = np.random.default_rng(3)
    # Distinct scores per user (no ties), different for every user.
    retriever_table = rng.permutation(np.arange(len(d.users) * (d.n_items + 1))).reshape(
        len(d.users), -1
    ).astype(np.float32) / 10  # fmt: skip
    reranker_table = rng.normal(size=retriever_table.shape).astype(np.float32)
    retriever = PerUserScores(torch.from_numpy(retriever_table))
    reranker = PerUserScores(torch.from_numpy(reranker_table))
    stages: tuple[Stage, ...] = ("valid", "test")
    for stage in stages:
        ranks = full_ranks(retriever, d, stage, batch_size=batch_size)
        assert ranks.tolist() == numpy_ranks(retriever_table, d, stage)
        for weight in (0.0, 0.3, 1.0):
            found = reranked_ranks(
                retriever, reranker, d, stage, candidates=12, batch_size=batch_size, weight=weight
            )
            expected = numpy_reranked(retriever_table, reranker_table, d, stage, 12, weight)
            assert found.tolist() == expected, (stage, weight)
