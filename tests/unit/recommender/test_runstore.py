"""A Table 3 run continued from kept models gives the same table as one that trained them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import recommender.experiment as experiment
from recommender.experiment import (
    BLENDED,
    RERANKED,
    ExperimentInputs,
    Row,
    SASRecSettings,
    fingerprint,
    run_table3,
    user_tag,
)
from recommender.runstore import RunStore
from tests.unit.learners.test_sasrec import cyclic_data

ROWS = (Row("None", "Random"), Row("KG+LLM", "Description (LLM)"))


def inputs() -> ExperimentInputs:
    data = cyclic_data()
    rng = np.random.default_rng(1)
    items = rng.standard_normal((data.n_items + 1, 8)).astype(np.float32)
    items[0] = 0
    users = {"KG+LLM": rng.standard_normal((len(data.users), 4)).astype(np.float32)}
    return ExperimentInputs("cyclic", data, items, users)


def test_a_stopped_run_continues_from_kept_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SASRecSettings(hidden=16, epochs=2, patience=2)
    store = RunStore(tmp_path / fingerprint(inputs(), settings, "cpu"))
    first = run_table3(
        inputs(), settings, (0,), ROWS, "cpu", progress=False, log=lambda _: None, store=store
    )
    # Seed 0 kept: the plain row, and the persona row under both fusions it tried.
    assert len(list(store.folder.glob("*.pt"))) == 3
    assert not list(store.folder.glob("*.partial"))
    trained: list[tuple[str, int]] = []
    real_fit = experiment.fit

    def counting_fit(row: Row, fusion: object, *args: object, **kwargs: object) -> object:
        trained.append((row.name, args[2]))  # type: ignore[arg-type]
        return real_fit(row, fusion, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(experiment, "fit", counting_fit)
    lines: list[str] = []
    second = run_table3(
        inputs(), settings, (0, 1), ROWS, "cpu", progress=False, log=lines.append, store=store
    )
    # Only seed 1 trains; seed 0 is loaded and scores exactly as before.
    assert {seed for _, seed in trained} == {1}
    assert sum("kept from an earlier run" in line for line in lines) == 3
    for row in [r.name for r in ROWS] + [RERANKED, BLENDED]:
        (before,) = first.by_row(row)
        again = next(run for run in second.by_row(row) if run.seed == 0)
        assert again.test == before.test
        np.testing.assert_array_equal(again.ranks, before.ranks)
        assert again.fusion == before.fusion
        assert again.best_epoch == before.best_epoch
        assert again.weight == before.weight


def test_fingerprint_tells_experiments_apart() -> None:
    base = fingerprint(inputs(), SASRecSettings(), "cpu")
    assert base == fingerprint(inputs(), SASRecSettings(), "cpu")
    assert base != fingerprint(inputs(), SASRecSettings(batch_size=32), "cpu")
    assert base != fingerprint(inputs(), SASRecSettings(), "cuda")
    changed = inputs()
    changed.item_features[1, 0] += 1
    assert base != fingerprint(changed, SASRecSettings(), "cpu")
    # Personas are told apart per row, so other rows of the experiment stay reusable.
    persona_row, plain_row = ROWS[1], ROWS[0]
    other = inputs()
    other.user_features["KG+LLM"][0, 0] += 1
    assert fingerprint(other, SASRecSettings(), "cpu") == base
    kept = SASRecSettings(user_dropout=0.0)
    assert user_tag(other, persona_row, kept) != user_tag(inputs(), persona_row, kept)
    assert user_tag(other, plain_row, kept) == user_tag(inputs(), plain_row, kept) == ""
    # User dropout only matters to rows with a user vector: it changes their tag alone,
    # and models trained before the setting existed (no dropout) keep their names.
    dropping = SASRecSettings(user_dropout=0.5)
    assert fingerprint(inputs(), dropping, "cpu") == fingerprint(inputs(), kept, "cpu")
    assert (
        user_tag(inputs(), persona_row, dropping)
        == user_tag(inputs(), persona_row, kept) + "-userdropout0.5"
    )
    assert user_tag(inputs(), plain_row, dropping) == ""


def test_a_store_refuses_a_model_of_another_shape(tmp_path: Path) -> None:
    settings = SASRecSettings(hidden=16, epochs=1, patience=1)
    store = RunStore(tmp_path)
    run_table3(
        inputs(), settings, (0,), ROWS[:1], "cpu", progress=False, log=lambda _: None, store=store
    )
    wider = SASRecSettings(hidden=32, epochs=1, patience=1)
    with pytest.raises(ValueError, match="does not fit this experiment"):
        run_table3(
            inputs(), wider, (0,), ROWS[:1], "cpu", progress=False, log=lambda _: None, store=store
        )
