"""Session graphs against hand-computed values; SR-GNN's interface, batching and learning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from learners.sasrec.data import SequenceData, left_pad
from learners.sessiongraph import GCEGNN, SRGNN, batch_graphs, global_graph, session_graph
from learners.sessiongraph.sessions import SessionCut, Timeline
from learners.sessiongraph.train import prefixes, train_session_model
from recommender.evaluation.evaluator import rank_users
from recommender.evaluation.metrics import ndcg
from tests.unit.learners.stops import Stopped, stopping


def test_a_hand_written_session_graph() -> None:
    # clicks 5 -> 7 -> 9 -> 7 -> 3 -> 3: nodes in first-click order 5, 7, 9, 3
    graph = session_graph([0, 0, 5, 7, 9, 7, 3, 3])
    assert graph.nodes.tolist() == [5, 7, 9, 3]
    assert graph.alias.tolist() == [0, 1, 2, 1, 3, 3]
    # distinct transitions: 5->7, 7->9, 9->7, 7->3, 3->3
    assert sorted(map(tuple, graph.edges.T.tolist())) == [(0, 1), (1, 2), (1, 3), (2, 1), (3, 3)]
    out = np.array(
        [[0, 1, 0, 0],  # 5: one successor
         [0, 0, 0.5, 0.5],  # 7: two successors, 9 and 3
         [0, 1, 0, 0],  # 9 -> 7
         [0, 0, 0, 1]],  # 3 -> 3
        np.float32,
    )  # fmt: skip
    incoming = np.array(
        [[0, 0, 0, 0],  # 5: no predecessor
         [0.5, 0, 0.5, 0],  # 7: from 5 and from 9
         [0, 1, 0, 0],  # 9: from 7
         [0, 0.5, 0, 0.5]],  # 3: from 7 and from itself
        np.float32,
    )  # fmt: skip
    np.testing.assert_allclose(graph.out_weights, out)
    np.testing.assert_allclose(graph.in_weights, incoming)


def test_a_repeated_transition_counts_once_and_an_empty_session_is_refused() -> None:
    graph = session_graph([1, 2, 1, 2])
    np.testing.assert_allclose(graph.out_weights, [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="empty session"):
        session_graph([0, 0])


def test_a_batch_pads_graphs_and_aligns_clicks() -> None:
    batch = batch_graphs(torch.tensor([[0, 0, 4, 6], [8, 8, 2, 8]]))
    assert batch.items.tolist() == [[4, 6], [8, 2]]
    assert batch.alias.tolist() == [[-1, -1, 0, 1], [0, 0, 1, 0]]
    assert batch.last.tolist() == [1, 0]
    np.testing.assert_allclose(batch.in_weights[1].numpy(), np.array([[0.5, 0.5], [1, 0]]))


def model(seed: int = 0) -> SRGNN:
    torch.manual_seed(seed)
    return SRGNN(12, hidden=16, steps=1, max_len=5)


def check_interface(m: SRGNN | GCEGNN) -> None:
    """SASRec's interface: full-sort scores with padding at -inf, candidate scores equal to
    them, and a session scored the same alone or in a batch."""
    m.eval()
    seq = left_pad([np.array([1, 2, 3]), np.array([4])], 5)
    scores = m.full_sort_predict(seq)
    assert scores.shape == (2, 13) and torch.isinf(scores[:, 0]).all()
    candidates = torch.tensor([[3, 7, 9], [1, 2, 12]])
    np.testing.assert_allclose(
        m.predict(seq, candidates).detach().numpy(),
        scores.gather(1, candidates).detach().numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    alone = m.full_sort_predict(seq[1:])
    np.testing.assert_allclose(
        alone.detach().numpy()[0, 1:], scores.detach().numpy()[1, 1:], atol=1e-5
    )


def test_the_interface_is_sasrecs() -> None:
    m = model().eval()
    check_interface(m)
    # only the last max_len clicks are read
    longer = left_pad([np.array([11, 10, 1, 2, 3])], 8)
    np.testing.assert_allclose(
        m.full_sort_predict(longer).detach().numpy(),
        m.full_sort_predict(left_pad([np.array([11, 10, 1, 2, 3])], 5)).detach().numpy(),
        atol=1e-6,
    )


def test_prefixes_cover_every_target_once() -> None:
    train = [np.array([1, 2, 3]), np.array([4]), np.array([5, 6])]
    assert prefixes(train).tolist() == [[0, 0, 1], [0, 0, 2], [2, 0, 1]]
    # Without prefix augmentation: each sequence's last item only.
    assert prefixes(train, every=False).tolist() == [[0, 0, 2], [2, 0, 1]]


def test_inactivity_gaps_cut_training_examples_and_the_evaluated_history() -> None:
    hour = 3600.0
    split = pd.DataFrame(
        {
            "user": ["b", "a", "a", "a", "a", "a", "a", "b", "b"],
            "split": ["train", "train", "train", "train", "train", "valid", "test", "train",
                      "valid"],
            "timestamp": [0.0, 0.0, 60.0, 5 * hour, 5 * hour + 60, 5 * hour + 120, 9 * hour,
                          10.0, 3 * hour],
        }
    )  # fmt: skip
    timeline = Timeline.from_split(split, np.array(["a", "b"], object))
    np.testing.assert_array_equal(timeline.train[0], [0, 60, 5 * hour, 5 * hour + 60])
    assert timeline.valid.tolist() == [5 * hour + 120, 3 * hour]
    cut = SessionCut(timeline, gap_seconds=hour)
    train = [np.array([1, 2, 3, 4]), np.array([5, 6])]
    # a: sessions [1, 2] and [3, 4]; item 3 starts a session, so it is no target; b: one.
    assert cut.examples(train).tolist() == [[0, 0, 1], [0, 2, 3], [1, 0, 1]]
    # Validation reads a's latest session [3, 4]; the test history adds the valid item 7
    # (two minutes later, same session); b's valid item 8 comes 3 hours on: a new session.
    latest = cut.latest([0, 1], [np.array([1, 2, 3, 4, 7]), np.array([5, 6, 8])])
    assert [s.tolist() for s in latest] == [[3, 4, 7], [8]]
    with pytest.raises(ValueError, match="timestamp on every interaction"):
        Timeline.from_split(split.assign(timestamp=np.nan), np.array(["a", "b"], object))


def cyclic_data(users: int = 30, items: int = 12) -> SequenceData:
    rows = []
    for u in range(users):
        seq = [(u + k) % items for k in range(8)]  # item k is always followed by k + 1
        for p, item in enumerate(seq):
            stage = "train" if p < 6 else ("valid" if p == 6 else "test")
            rows.append((f"u{u}", f"i{item}", p, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=[f"i{k}" for k in range(items)])


def test_training_learns_a_deterministic_pattern_and_keeps_the_best_state() -> None:
    data = cyclic_data()
    m = model()

    def validate(candidate: SRGNN) -> float:
        ranks = rank_users(lambda _, h: candidate.full_sort_predict(left_pad(h, 5)), data, "valid")
        return ndcg(ranks, 10)

    before = validate(m.eval())
    result = train_session_model(
        m, data.train, validate, epochs=30, batch_size=32, lr=0.01, patience=5, progress=False
    )
    assert result.best_valid > max(before, 0.8)  # next item = current + 1 is learnt
    assert abs(validate(m) - result.best_valid) < 1e-9  # ends in its best state


def test_the_global_graph_counts_nearby_clicks_of_the_sequences_given() -> None:
    from learners.sessiongraph.global_graph import global_graph

    graph = global_graph([np.array([1, 2, 3]), np.array([2, 1, 1])], n_items=4, epsilon=2, top=3)
    # within two clicks: (1,2) (2,3) (1,3) in the first; (2,1) (1,1 dropped) (2,1) in the second
    assert graph.edges() == {(1, 2), (2, 1), (2, 3), (3, 2), (1, 3), (3, 1)}
    assert graph.neighbours[1].tolist() == [2, 3, 0]  # 1-2 three times, 1-3 once
    assert graph.weights[1].tolist() == [3.0, 1.0, 0.0]
    assert graph.neighbours[4].tolist() == [0, 0, 0]  # an item never clicked
    top1 = global_graph([np.array([1, 2, 3])], n_items=3, epsilon=2, top=1)
    assert top1.neighbours[2].tolist() == [1]  # ties by item index


def test_the_global_graph_of_training_sequences_holds_no_held_out_transition() -> None:
    from learners.sessiongraph.global_graph import global_graph

    data = cyclic_data()
    graph = global_graph(data.train, data.n_items, epsilon=1, top=20)
    trained = {
        pair
        for seq in data.train
        for a, b in zip(seq[:-1].tolist(), seq[1:].tolist(), strict=True)
        for pair in ((a, b), (b, a))
        if a != b
    }
    assert graph.edges() == trained
    # a user whose validation and test items (9, then 10) follow nowhere in training
    rows = [("a", f"i{k}", k, "train") for k in (1, 2, 3)]
    rows += [("a", "i9", 3, "valid"), ("a", "i10", 4, "test")]
    rows += [("b", f"i{k}", p, "train") for p, k in enumerate((2, 3, 4, 5))]
    rows += [("b", "i6", 4, "valid"), ("b", "i7", 5, "test")]
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    small = SequenceData.from_split(frame, catalogue=[f"i{k}" for k in range(1, 11)])
    edges = global_graph(small.train, small.n_items, epsilon=3, top=10).edges()
    index = {f"i{k}": k for k in range(1, 11)}  # item ik is index k
    held_out = {index["i9"], index["i10"], index["i6"], index["i7"]}
    assert edges and not {e for e in edges if set(e) & held_out}


def test_edge_types_of_a_session_graph() -> None:
    batch = batch_graphs(torch.tensor([[0, 1, 2, 1, 3]]))  # 1 -> 2 -> 1 -> 3
    # nodes 1, 2, 3: 1<->2 both ways, 1 -> 3 out only (3 <- 1 in only), self on the diagonal
    assert batch.relations[0].tolist() == [[1, 4, 2], [4, 1, 0], [3, 0, 1]]


def gce(data: SequenceData, seed: int = 0) -> GCEGNN:

    torch.manual_seed(seed)
    return GCEGNN(data.n_items, global_graph(data.train, data.n_items), hidden=16, max_len=5)


def test_gce_gnn_has_the_interface_and_learns_the_pattern() -> None:
    data = cyclic_data()
    m = gce(data)
    check_interface(m)

    def validate(candidate: GCEGNN) -> float:
        ranks = rank_users(lambda _, h: candidate.full_sort_predict(left_pad(h, 5)), data, "valid")
        return ndcg(ranks, 10)

    result = train_session_model(
        m,
        data.train,
        validate,
        epochs=30,
        batch_size=32,
        lr=0.01,
        patience=5,
        progress=False,
    )
    assert result.best_valid > 0.8
    for parameter in m.parameters():
        assert torch.isfinite(parameter).all()


def test_gce_gnn_attention_matches_the_papers_formulas_pair_by_pair() -> None:
    """The batched attention (one score matrix per edge type; the session vector folded into
    the scoring weight) against GCE-GNN's equations written out for each pair and neighbour.
    """
    rng = np.random.default_rng(3)
    train = [rng.integers(1, 13, size=int(rng.integers(3, 9))) for _ in range(20)]
    graph = global_graph(train, 12, epsilon=2, top=4)
    torch.manual_seed(0)
    m = GCEGNN(12, graph, hidden=6, max_len=8).double()
    seq = left_pad([train[0], train[1][:2], np.array([5, 5, 7, 5])], 8)
    batch = batch_graphs(seq)
    h = m.item_embedding(batch.items)
    real = (batch.items > 0).double()[..., None]
    session = (h * real).sum(1) / real.sum(1)
    kinds = batch.relations
    leaky = torch.nn.functional.leaky_relu
    with torch.no_grad():
        local = m._session_states(h, batch)
        around = m._global_states(h, batch.items, session)
        for b in range(seq.shape[0]):
            n = int((batch.items[b] > 0).sum())
            for i in range(n):
                # session level: e_ij = LeakyReLU(r_kind . (h_i * h_j)) over i's neighbours
                scores = [
                    leaky((m.relation_vectors[kinds[b, i, j]] * h[b, i] * h[b, j]).sum(), 0.2)
                    for j in range(n)
                ]
                allowed = [j for j in range(n) if kinds[b, i, j] > 0]
                alpha = torch.softmax(torch.stack([scores[j] for j in allowed]), 0)
                expected = sum(a * h[b, j] for a, j in zip(alpha, allowed, strict=True))
                torch.testing.assert_close(local[b, i], expected)
                # global level: pi = q . LeakyReLU(W [s * h_v, w_v]) over item i's neighbours
                neighbours = m.get_buffer("neighbours")[batch.items[b, i]]
                counts = m.get_buffer("neighbour_weights")[batch.items[b, i]]
                kept = [k for k in range(len(neighbours)) if neighbours[k] > 0]
                hv = m.item_embedding(neighbours)
                pi = torch.stack(
                    [
                        m.neighbour_query(
                            leaky(
                                m.neighbour_score(
                                    torch.cat([session[b] * hv[k], counts[k : k + 1]])
                                ),
                                0.2,
                            )
                        ).squeeze()
                        for k in kept
                    ]
                )
                mixed = sum(a * hv[k] for a, k in zip(torch.softmax(pi, 0), kept, strict=True))
                want = torch.relu(m.global_mix(torch.cat([h[b, i], mixed])))
                torch.testing.assert_close(around[b, i], want)


def test_a_stopped_gce_gnn_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    data = cyclic_data()

    def run(resume: Path | None, stop_at: int | None = None) -> tuple[GCEGNN, list[float]]:
        torch.manual_seed(0)  # dropout and shuffled prefixes: both generators matter
        m = GCEGNN(data.n_items, global_graph(data.train, data.n_items), hidden=16, max_len=5,
                   dropout=0.2)  # fmt: skip

        def validate(candidate: GCEGNN) -> float:
            ranks = rank_users(
                lambda _, h: candidate.full_sort_predict(left_pad(h, 5)), data, "valid"
            )
            return ndcg(ranks, 10)

        result = train_session_model(m, data.train, stopping(validate, stop_at), epochs=6,
                                     batch_size=32, lr=0.01, patience=6, seed=3, progress=False,
                                     resume=resume)  # fmt: skip
        return m, [e.loss for e in result.curve]

    whole, losses = run(None)
    state = tmp_path / "gce.progress.pt"
    with pytest.raises(Stopped):
        run(state, stop_at=2)
    resumed, found = run(state)
    assert found == losses and not state.exists()
    for name, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
