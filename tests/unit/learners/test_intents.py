"""LLM-DMsRec's parts beside the language model, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import torch

from learners.semantics.prompts import session_intents_prompt
from learners.sessiongraph.intents import (
    IntentFusion,
    alignment_loss,
    classify_intents,
    kl_alignment,
    parse_intents,
)


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
    for garbage in ("", "   ", "\n\n", "1.\n2.\n-", "." * 5, "x" * 500, None):
        found = parse_intents(garbage)  # type: ignore[arg-type]
        assert found.malformed and found.intents == ()


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
