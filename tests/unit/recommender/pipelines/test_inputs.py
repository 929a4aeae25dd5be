"""How the retriever variants are built from their settings."""

from __future__ import annotations

import torch

from recommender.config import SASRecConfig
from recommender.pipelines.inputs import (
    PERSONA_RETRIEVER,
    PLAIN,
    ItemVector,
    RetrieverVariant,
    UserVector,
    build_model,
)
from tests.unit.recommender.experiments.test_runstore import inputs


def test_description_items_learn_an_offset_from_the_text_by_default() -> None:
    model = build_model(PERSONA_RETRIEVER, "input", inputs(), SASRecConfig())
    assert model.item_projection is not None and model.item_embedding is not None
    with torch.no_grad():  # the offsets start at zero: training starts from the texts
        projected = model.item_projection(model.get_buffer("item_features"))
        assert torch.equal(model.item_vectors(), projected)


def test_the_text_projection_alone_when_asked() -> None:
    settings = SASRecConfig(item_residual=False)
    model = build_model(
        RetrieverVariant(UserVector.NONE, ItemVector.TEXT), None, inputs(), settings
    )
    assert model.item_projection is not None and model.item_embedding is None


def test_random_items_are_unchanged_by_the_setting() -> None:
    for residual in (True, False):
        settings = SASRecConfig(item_residual=residual)
        model = build_model(PLAIN, None, inputs(), settings)
        assert model.item_projection is None and model.item_embedding is not None


def test_user_dropout_reaches_the_model() -> None:
    model = build_model(PERSONA_RETRIEVER, "input", inputs(), SASRecConfig(user_dropout=0.3))
    assert model.user_dropout == 0.3


def test_variants_have_stable_keys_apart_from_their_labels() -> None:
    assert PERSONA_RETRIEVER.key == "persona-text"
    assert PERSONA_RETRIEVER.label == "KG+LLM / Description (LLM)"
    assert PLAIN.label == "None / Random"
    assert UserVector.from_label("KG+LLM") is UserVector.PERSONA


def test_a_catalogue_without_text_gets_learned_item_vectors() -> None:
    from recommender.pipelines.inputs import (
        PERSONA_RETRIEVER,
        PLAIN,
        VARIANTS,
        ItemVector,
        RetrieverVariant,
        UserVector,
        for_catalogue,
    )

    assert for_catalogue(VARIANTS, True) == VARIANTS
    textless = for_catalogue(VARIANTS, False)
    assert all(v.item is ItemVector.ID for v in textless)
    assert len(textless) == len(set(textless)) == len(VARIANTS) - 1  # None/text == None/id
    assert textless[0] == PLAIN
    assert RetrieverVariant(UserVector.PERSONA, ItemVector.ID) in textless
    assert for_catalogue((PERSONA_RETRIEVER,), False)[0].label == "KG+LLM / Random"
