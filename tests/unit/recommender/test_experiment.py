"""How Table 3's rows are built from their settings."""

from __future__ import annotations

import torch

from recommender.experiment import Row, SASRecSettings, build_model, fingerprint
from tests.unit.recommender.test_runstore import inputs


def test_description_items_learn_an_offset_from_the_text_by_default() -> None:
    model = build_model(Row("KG+LLM", "Description (LLM)"), "input", inputs(), SASRecSettings())
    assert model.item_projection is not None and model.item_embedding is not None
    with torch.no_grad():  # the offsets start at zero: training starts from the texts
        projected = model.item_projection(model.get_buffer("item_features"))
        assert torch.equal(model.item_vectors(), projected)


def test_the_text_projection_alone_when_asked() -> None:
    settings = SASRecSettings(item_residual=False)
    model = build_model(Row("None", "Description (LLM)"), None, inputs(), settings)
    assert model.item_projection is not None and model.item_embedding is None


def test_random_items_are_unchanged_by_the_setting() -> None:
    for residual in (True, False):
        settings = SASRecSettings(item_residual=residual)
        model = build_model(Row("None", "Random"), None, inputs(), settings)
        assert model.item_projection is None and model.item_embedding is not None


def test_the_setting_is_part_of_the_fingerprint() -> None:
    assert fingerprint(inputs(), SASRecSettings(), "cpu") != fingerprint(
        inputs(), SASRecSettings(item_residual=False), "cpu"
    )


def test_user_dropout_enters_the_fingerprint_only_when_set() -> None:
    from recommender.experiment import fingerprinted

    # Models trained before the setting existed (no dropout) are still found.
    assert "user_dropout" not in fingerprinted(SASRecSettings(user_dropout=0.0))
    assert fingerprinted(SASRecSettings())["user_dropout"] == 0.5
    settings = SASRecSettings(user_dropout=0.5)
    model = build_model(Row("KG+LLM", "Description (LLM)"), "input", inputs(), settings)
    assert model.user_dropout == 0.5
