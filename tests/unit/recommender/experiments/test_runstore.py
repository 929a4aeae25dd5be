"""A comparison continued from kept models gives the same results as one that trained them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.config import SASRecConfig
from recommender.experiments.comparison import run_comparison
from recommender.experiments.fingerprint import experiment_fingerprint, user_tag
from recommender.experiments.runs import BLENDED, PLAIN_BLEND, RERANKED, variant_row
from recommender.experiments.runstore import RunStore
from recommender.pipelines import inputs as training
from recommender.pipelines.inputs import (
    PERSONA_RETRIEVER,
    PLAIN,
    RetrieverVariant,
    TrainingInputs,
    UserVector,
)
from tests.unit.learners.test_sasrec import cyclic_data

ROWS = (PLAIN, PERSONA_RETRIEVER)


def inputs() -> TrainingInputs:
    data = cyclic_data()
    rng = np.random.default_rng(1)
    items = rng.standard_normal((data.n_items + 1, 8)).astype(np.float32)
    items[0] = 0
    users = {UserVector.PERSONA: rng.standard_normal((len(data.users), 4)).astype(np.float32)}
    return TrainingInputs("cyclic", data, items, users)


def test_a_stopped_run_continues_from_kept_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SASRecConfig(hidden=16, epochs=2, patience=2)
    store = RunStore(tmp_path / experiment_fingerprint(inputs(), settings, "cpu"))
    first = run_comparison(
        inputs(), settings, (0,), ROWS, "cpu", progress=False, log=lambda _: None, store=store
    )
    # Seed 0 kept: the plain row, the persona row under both fusions it tried, and the plain
    # blend control's second SASRec (seed 1000).
    assert len(list(store.folder.glob("*.pt"))) == 4
    assert not list(store.folder.glob("*.partial"))
    assert not list(store.folder.glob("*.progress.pt"))  # the epochs' state, gone once kept
    trained: list[tuple[str, int]] = []
    resumes: list[Path] = []
    real_fit = training.fit

    def counting_fit(
        variant: RetrieverVariant, fusion: object, *args: object, **kwargs: object
    ) -> object:
        trained.append((variant.key, args[2]))  # type: ignore[arg-type]
        resumes.append(kwargs["resume"])  # type: ignore[arg-type]
        return real_fit(variant, fusion, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "fit", counting_fit)
    lines: list[str] = []
    second = run_comparison(
        inputs(), settings, (0, 1), ROWS, "cpu", progress=False, log=lines.append, store=store
    )
    # Only seed 1 (and its control, 1001) trains; seed 0 is loaded and scores as before.
    assert {seed for _, seed in trained} == {1, 1001}
    # Each training keeps its epochs' state beside the model it will be saved as.
    assert all(p.parent == store.folder and p.name.endswith(".progress.pt") for p in resumes)
    assert len(set(resumes)) == len(resumes) == len(trained)
    assert sum("kept from an earlier run" in line for line in lines) == 4
    for row in [variant_row(v) for v in ROWS] + [RERANKED, BLENDED, PLAIN_BLEND]:
        (before,) = first.by_row(row)
        again = next(run for run in second.by_row(row) if run.seed == 0)
        assert again.test == before.test
        np.testing.assert_array_equal(again.ranks, before.ranks)
        assert again.fusion == before.fusion
        assert again.best_epoch == before.best_epoch
        assert again.weight == before.weight


def test_fingerprint_tells_experiments_apart() -> None:
    base = experiment_fingerprint(inputs(), SASRecConfig(), "cpu")
    assert base == experiment_fingerprint(inputs(), SASRecConfig(), "cpu")
    assert base != experiment_fingerprint(inputs(), SASRecConfig(batch_size=32), "cpu")
    assert base != experiment_fingerprint(inputs(), SASRecConfig(item_residual=False), "cpu")
    assert base != experiment_fingerprint(inputs(), SASRecConfig(), "cuda")
    changed = inputs()
    changed.item_features[1, 0] += 1
    assert base != experiment_fingerprint(changed, SASRecConfig(), "cpu")
    # Personas are told apart per variant, so other variants of the experiment stay reusable.
    persona, plain = PERSONA_RETRIEVER, PLAIN
    other = inputs()
    other.user_features[UserVector.PERSONA][0, 0] += 1
    assert experiment_fingerprint(other, SASRecConfig(), "cpu") == base
    config = SASRecConfig(user_dropout=0.0)
    assert user_tag(other, persona, config) != user_tag(inputs(), persona, config)
    assert user_tag(other, plain, config) == user_tag(inputs(), plain, config) == ""
    # User dropout only matters to variants with a user vector: it changes their tag alone.
    dropping = SASRecConfig(user_dropout=0.5)
    assert experiment_fingerprint(inputs(), dropping, "cpu") == experiment_fingerprint(
        inputs(), config, "cpu"
    )
    assert user_tag(inputs(), persona, dropping).endswith("-userdropout0.5")
    assert user_tag(inputs(), persona, config).endswith("-userdropout0")
    assert user_tag(inputs(), plain, dropping) == ""


def test_a_store_refuses_a_model_of_another_shape(tmp_path: Path) -> None:
    settings = SASRecConfig(hidden=16, epochs=1, patience=1)
    store = RunStore(tmp_path)
    run_comparison(
        inputs(), settings, (0,), ROWS[:1], "cpu", progress=False, log=lambda _: None, store=store
    )
    wider = SASRecConfig(hidden=32, epochs=1, patience=1)
    with pytest.raises(ValueError, match="does not fit this experiment"):
        run_comparison(
            inputs(), wider, (0,), ROWS[:1], "cpu", progress=False, log=lambda _: None, store=store
        )
