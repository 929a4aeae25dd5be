"""LLM-DMsRec's parts beside the language model, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import torch

from learners.semantics.prompts import session_intents_prompt
from learners.sessiongraph import SRGNN
from learners.sessiongraph.intents import (
    IntentFusion,
    alignment_loss,
    classify_intents,
    kl_alignment,
    parse_intents,
)
from learners.sessiongraph.llm_dmsrec import LLMDMsRec


def test_well_formed_answers_are_read_in_every_common_shape() -> None:
    numbered = "1. Science fiction films\n2. Harrison Ford\n3) 1980s adventure"
    assert parse_intents(numbered).intents == (
        "Science fiction films", "Harrison Ford", "1980s adventure",
    )  # fmt: skip
    assert parse_intents("- Jazz\n* Live albums\n• Vinyl").intents == (
        "Jazz",
        "Live albums",
        "Vinyl",
    )
    assert parse_intents("Jazz, live albums; vinyl").intents == ("Jazz", "live albums", "vinyl")
    assert parse_intents('["Jazz", "Vinyl"]').intents == ("Jazz", "Vinyl")
    assert parse_intents('Intent 1: Jazz\nIntention 2: "Vinyl".').intents == ("Jazz", "Vinyl")


def test_partial_answers_keep_what_is_usable() -> None:
    found = parse_intents("1. Jazz\n2. jazz!\n3. \n4. " + "x" * 200 + "\n5. Vinyl", limit=5)
    assert found.intents == ("Jazz", "Vinyl") and not found.malformed  # repeat, blank, too long
    assert parse_intents("1. a\n2. b\n3. c\n4. d", limit=2).intents == ("a", "b")
    assert parse_intents('["Jazz", ').intents == ("Jazz",)  # broken JSON: read as text


def test_garbage_is_malformed_and_never_an_error() -> None:
    for garbage in ("", "   ", "\n\n", "1.\n2.\n-", "." * 5, "x" * 500, "1, 2, 3", None):
        found = parse_intents(garbage)  # type: ignore[arg-type]
        assert found.malformed and found.intents == ()
    # A bare number beside real intents names nothing: dropped, the rest kept.
    assert parse_intents("Space opera, 1, 1977").intents == ("Space opera",)


def test_explicit_intents_occur_in_the_session_text_latent_ones_do_not() -> None:
    titles = ["Star Wars (1977)", "Raiders of the Lost Ark", "Blade Runner"]
    explicit, latent = classify_intents(
        ["star wars", "Lost-Ark", "Harrison Ford", "War", "blade runner!"], titles
    )
    assert explicit == ["star wars", "Lost-Ark", "blade runner!"]
    assert latent == ["Harrison Ford", "War"]  # whole words only: "War" is not "Wars"


def test_the_kl_term_against_a_hand_computed_value() -> None:
    g = torch.tensor([[0.0, math.log(3.0)]])  # softmax: 1/4, 3/4
    e = torch.tensor([[0.0, 0.0]])  # softmax: 1/2, 1/2
    expected = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert abs(float(kl_alignment(g, e)) - expected) < 1e-6
    assert float(kl_alignment(g, g)) < 1e-7
    # only sessions with intents count; none: zero (and still differentiable)
    both = torch.cat([g, torch.tensor([[5.0, -5.0]])])
    present = torch.tensor([True, False])
    assert abs(float(kl_alignment(both, torch.zeros(2, 2), present)) - expected) < 1e-6
    assert float(kl_alignment(both, torch.zeros(2, 2), torch.tensor([False, False]))) == 0.0
    weighted = alignment_loss(g, e, g, torch.tensor([True]), torch.tensor([True]), 0.1, 0.3)
    assert abs(float(weighted) - 0.1 * expected) < 1e-6


def test_fusion_zeroes_missing_or_ablated_intents() -> None:
    torch.manual_seed(0)
    fusion = IntentFusion(hidden=4, text_dim=6)
    structural, text = torch.randn(2, 4), torch.randn(2, 6)
    s, e, lat = fusion(
        structural, text, text, torch.tensor([True, False]), torch.tensor([True, True])
    )
    assert s.shape == (2, 4)
    np.testing.assert_array_equal(e[1].detach().numpy(), np.zeros(4))
    assert bool(lat.abs().sum(dim=1).gt(0).all())
    without_latent = IntentFusion(hidden=4, text_dim=6, latent=False)
    _, _, lat = without_latent(
        structural, text, text, torch.tensor([True, True]), torch.tensor([True, True])
    )
    assert float(lat.detach().abs().sum()) == 0.0


def test_the_intent_prompt_lists_the_session_and_the_candidates() -> None:
    prompt = session_intents_prompt(["Star Wars", "Alien"], ["Aliens", "Blade Runner"], limit=3)
    assert "1. Star Wars\n2. Alien" in prompt and "- Aliens\n- Blade Runner" in prompt
    assert "at most 3 intentions" in prompt


def intent_model(**options: bool) -> LLMDMsRec:
    torch.manual_seed(0)
    backbone = SRGNN(12, hidden=8, steps=1, max_len=5)
    users = 30
    explicit, latent = torch.randn(users, 6), torch.randn(users, 6)
    has_e = torch.arange(users) % 3 != 0  # every third user has no explicit intent
    has_l = torch.ones(users, dtype=torch.bool)
    return LLMDMsRec(backbone, explicit, latent, has_e, has_l, hidden=8, **options)


def test_llm_dmsrec_fuses_each_users_intents_and_adds_the_weighted_kl() -> None:
    from learners.sasrec.data import left_pad

    m = intent_model()
    assert isinstance(m, LLMDMsRec)
    seq = left_pad([np.array([1, 2, 3]), np.array([4, 5])], 5)
    users = torch.tensor([1, 3])
    m.eval()
    scores = m.full_sort_predict(seq, users)
    assert scores.shape == (2, 13) and torch.isinf(scores[:, 0]).all()
    other = m.full_sort_predict(seq, torch.tensor([2, 4]))
    assert not torch.allclose(scores[:, 1:], other[:, 1:])  # the intents change the scores
    m.train()
    m.full_sort_predict(seq, users)
    structural = m.backbone.session_vectors(seq)
    buffer = m.get_buffer
    has_e, has_l = buffer("has_explicit")[users], buffer("has_latent")[users]
    _, e, lat = m.fusion(structural, buffer("explicit")[users], buffer("latent")[users], has_e,
                         has_l)  # fmt: skip
    expected = 0.2 * (0.1 * kl_alignment(structural, e, has_e)
                      + 0.1 * kl_alignment(structural, lat, has_l))  # fmt: skip
    assert abs(float(m.auxiliary_loss().detach()) - float(expected.detach())) < 1e-6
    without = intent_model(align=False)
    assert isinstance(without, LLMDMsRec)
    without.train()
    without.full_sort_predict(seq, users)
    assert float(without.auxiliary_loss()) == 0.0


def test_without_explicit_intents_the_explicit_features_do_not_matter() -> None:
    from learners.sasrec.data import left_pad

    m = intent_model(use_explicit=False)
    assert isinstance(m, LLMDMsRec)
    m.eval()
    seq = left_pad([np.array([1, 2, 3])], 5)
    before = m.full_sort_predict(seq, torch.tensor([1])).detach().clone()
    m.get_buffer("explicit").add_(5.0)
    np.testing.assert_allclose(m.full_sort_predict(seq, torch.tensor([1])).detach(), before)


def test_commentary_headings_and_sentences_are_not_intents() -> None:
    answer = (
        "1. Toy Story\n2. Finding Nemo\nA recommender suggests these items as likely next "
        "clicks:\n- Up\n\nThe user is looking for a genre, a theme, a person, and a kind of item."
    )
    assert parse_intents(answer).intents == ("Toy Story", "Finding Nemo", "Up")
    long = "1. a phrase that goes on and on well past what an intent is"
    assert parse_intents(long).malformed
