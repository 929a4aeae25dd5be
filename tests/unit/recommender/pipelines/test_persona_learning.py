"""The persona model's name: what changes the personas changes it."""

from __future__ import annotations

from pathlib import Path

import learners.hdgi
from recommender.config import HDGIConfig
from recommender.pipelines.persona_learning import model_name
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
