"""The persona model's name: what changes the personas changes it, and a published choice
found again from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import learners.hdgi
from recommender.config import HDGI_FUSIONS, HDGI_GRID, HDGIConfig
from recommender.pipelines.persona_choice import (
    Plan,
    choice_label,
    choice_margin,
    reproduced_plan,
)
from recommender.pipelines.persona_learning import centred
from recommender.pipelines.persona_names import PersonaError, model_name, published_config
from recommender.util.hashing import code_digest


def test_the_persona_model_name_names_the_settings_and_the_code() -> None:
    name = model_name(HDGIConfig(), 2)
    digest = code_digest(Path(learners.hdgi.__file__).parent)[:8]
    assert name == f"hdgi-64d-lr0.005-taste1-profile1-epochs800-patience100-seed2-code{digest}"
    assert model_name(HDGIConfig(profile_weight=0.0), 2) != name
    assert model_name(HDGIConfig(), 3) != name
    # how long training may run changes the personas too
    assert model_name(HDGIConfig(patience=20), 2) != name
    assert model_name(HDGIConfig(epochs=300), 2) != name


def test_a_tuned_model_is_named_by_its_candidates_not_by_one_length() -> None:
    config = HDGIConfig()
    candidates = [config.model_copy(update=c) for c in HDGI_GRID]
    name = model_name(config, 2, candidates)
    assert "-tuned" in name and "epochs" not in name and ":" not in name
    assert model_name(config, 2, candidates[:2]) != name
    assert model_name(config, 2, candidates) == name
    # choosing the fusion too names another model
    both = [config.model_copy(update={**f, **c}) for f in HDGI_FUSIONS for c in HDGI_GRID]
    assert len(both) == 2 * len(candidates) and model_name(config, 2, both) != name


def test_centred_personas_have_zero_mean() -> None:
    rng = np.random.default_rng(0)
    personas = rng.standard_normal((5, 3)).astype(np.float32) + 4.0
    np.testing.assert_allclose(centred(personas).mean(axis=0), 0, atol=1e-6)
    assert centred(personas).dtype == np.float32


def test_the_settings_are_read_back_from_a_published_model_name() -> None:
    for config in (
        HDGIConfig(),
        HDGIConfig(lr=1e-5, taste_weight=0.5, path_norm=True),
        HDGIConfig(fusion="mean", path_dropout=0.3, epochs=200, patience=25, profile_weight=0),
    ):
        assert published_config(model_name(config, 3)) == config
    # a length and fusion chosen on validation follow the colon
    base = HDGIConfig()
    tuned = [base.model_copy(update={**f, **c}) for f in HDGI_FUSIONS for c in HDGI_GRID]
    name = model_name(base, 0, tuned) + ":pathnorm-epochs200-patience25"
    assert published_config(name) == base.model_copy(
        update={"path_norm": True, "epochs": 200, "patience": 25}
    )
    assert published_config(model_name(base, 0, tuned) + ":epochs800-patience25") == (
        base.model_copy(update={"patience": 25})
    )
    with pytest.raises(PersonaError):
        published_config("not-a-persona-model")


def test_a_published_choice_is_found_again_among_the_candidates() -> None:
    base = HDGIConfig()
    plans = [
        (f, [base.model_copy(update={**f, **c}) for c in HDGI_GRID]) for f in HDGI_FUSIONS
    ]  # as learn_personas plans them: one run per fusion, with every length
    family = model_name(base, 0, [c for _, own in plans for c in own])
    for structure, own in plans:
        for candidate in own:
            label = choice_label(base, candidate)
            kept, found = reproduced_plan(plans, base, family, f"{family}:{label}")
            assert found == candidate and kept == [(structure, own)]
            # the name reads back as the settings it stands for
            assert published_config(f"{family}:{label}") == candidate
    assert choice_label(base, plans[1][1][0]).startswith("pathnorm-")


def test_a_choice_of_other_settings_or_code_is_refused() -> None:
    base = HDGIConfig()
    plans: list[Plan] = [({}, [base.model_copy(update=c) for c in HDGI_GRID])]
    family = model_name(base, 0, plans[0][1])
    with pytest.raises(PersonaError, match="no candidate is published as 'epochs7-patience1'"):
        reproduced_plan(plans, base, family, f"{family}:epochs7-patience1")
    other = family.replace("-seed0-", "-seed1-")
    with pytest.raises(PersonaError, match="cannot reproduce"):
        reproduced_plan(plans, base, family, f"{other}:epochs800-patience100")
    with pytest.raises(PersonaError, match="cannot reproduce"):
        reproduced_plan(plans, base, family, family)  # no choice after a colon


def test_the_choice_is_measured_against_the_next_candidate_with_other_personas() -> None:
    rng = np.random.default_rng(0)
    best = rng.random(400)
    twin = best.copy()  # stopped at the same state: the same personas
    close = best - 0.001 + rng.normal(0, 0.2, 400)
    far = best - 0.3
    values = [far, best, twin, close]
    scores = [float(v.mean()) for v in values]
    tuning: list[dict[str, object]] = [{"changes": {"epochs": e}} for e in (1, 2, 3, 4)]
    margin = choice_margin(scores, values, 1, tuning)
    assert margin is not None and margin.over == {"epochs": 4}  # not the identical twin
    assert margin.difference == pytest.approx(float((best - close).mean()))
    assert margin.low <= 0.0 <= margin.high  # within the noise of 400 users
    clear = choice_margin([scores[0], scores[1]], [far, best], 1, tuning[:2])
    assert clear is not None and clear.low > 0.25 and clear.over == {"epochs": 1}
    assert choice_margin([scores[1], scores[2]], [best, twin], 0, tuning[1:3]) is None
