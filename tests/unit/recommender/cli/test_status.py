"""``kgrec status``: each stage described, and the next command chosen, without a database."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from kgstore.settings import SettingsError
from kgstore.stats import DatasetState
from recommender.cli.status import _comparison, cmd_status, describe
from recommender.serving.bundle import BundleInfo

READY = DatasetState(
    dataset="shop", ingested_at="2026-12-01T10:00:00+00:00", unfinished_phases=0,
    split_sha256="ab" * 32, users=30, items=25, embedded_items=25, relations=3,
    embedded_relations=3, persona_version="p1", persona_model="hdgi-64d", with_persona=30,
)  # fmt: skip
BUNDLE = BundleInfo(
    dataset="shop", version="m1", created_at="2026-12-02T10:00:00+00:00",
    split_hash="ab" * 32, graph_version="g1", persona_version="p1", seed=0, settings={},
    retriever={}, reranker={},
)  # fmt: skip


def step(state: DatasetState, bundle: BundleInfo | None = BUNDLE) -> str:
    return describe(state, bundle)[1]


def test_each_missing_stage_names_its_command_in_pipeline_order() -> None:
    assert step(READY).startswith("ready: kgrec serve --dataset shop")
    unfinished = dataclasses.replace(READY, ingested_at=None, unfinished_phases=2)
    assert step(unfinished).startswith("kgrec ingest shop")
    resumed = dataclasses.replace(READY, unfinished_phases=1)  # finished once, then re-run
    assert step(resumed).startswith("kgrec ingest shop")
    bare = dataclasses.replace(READY, embedded_items=0, embedded_relations=0,
                               persona_version=None, with_persona=0)  # fmt: skip
    assert step(bare, None) == "kgrec embed --dataset shop"
    no_personas = dataclasses.replace(READY, persona_version=None, with_persona=0)
    assert step(no_personas, None) == "kgrec personas --dataset shop"
    assert step(READY, None) == "kgrec train --dataset shop"


def test_a_recommender_older_than_the_graph_is_stale() -> None:
    stages, next_step = describe(dataclasses.replace(READY, persona_version="p2"), BUNDLE)
    assert next_step == "kgrec train --dataset shop"
    assert stages[-1].text == (
        "m1, trained 2026-12-02T10:00:00+00:00: stale, trained with personas p1; the graph "
        "now holds p2"
    )
    stages, next_step = describe(dataclasses.replace(READY, split_sha256="cd" * 32), BUNDLE)
    assert "stale, trained on another split" in stages[-1].text
    assert next_step == "kgrec train --dataset shop"
    stages, _ = describe(READY, None, "cannot read the recommender in m1: truncated")
    assert stages[-1].text == "cannot read the recommender in m1: truncated"


def test_items_without_text_are_told_apart_from_items_not_embedded_yet() -> None:
    no_text = dataclasses.replace(READY, embedded_items=0)
    assert describe(no_text, BUNDLE)[0][1].text.endswith(
        "(no text: the models learn item vectors); relation types 3 of 3"
    )
    not_yet = dataclasses.replace(no_text, embedded_relations=0)
    assert "(not embedded yet)" in describe(not_yet, BUNDLE)[0][1].text
    assert describe(READY, BUNDLE)[0][0].text == (
        "30 users, 25 items, ingested 2026-12-01T10:00:00+00:00, split abababababab"
    )


def test_a_comparison_under_way_is_a_line_of_its_own() -> None:
    stages, next_step = describe(READY, BUNDLE, comparison="standard rows: 3 seeds")
    assert (stages[-1].name, stages[-1].text) == (
        "comparison",
        "standard rows: 3 seeds (kgrec experiment records --dataset shop)",
    )
    assert next_step.startswith("ready: kgrec serve")  # a comparison is no pipeline stage
    assert "comparison" not in [stage.name for stage in describe(READY, BUNDLE)[0]]


def test_a_records_folder_given_is_the_one_listed() -> None:
    listing = "kgrec experiment records --records docs/results/records/shop"
    stages, _ = describe(READY, BUNDLE, comparison="standard rows: 1 seed", listing=listing)
    assert stages[-1].text == f"standard rows: 1 seed ({listing})"


def test_records_without_a_dataset_is_refused() -> None:
    args = argparse.Namespace(dataset=None, records=Path("records"))
    with pytest.raises(SettingsError, match="--records needs --dataset"):
        cmd_status(args)


def test_records_made_with_other_personas_say_how_to_have_them(tmp_path: Path) -> None:
    made = tmp_path / "seeds" / "k1"
    made.mkdir(parents=True)
    (made / "seed0.json").write_text("{}")
    (made / "key.json").write_text(json.dumps({"personas": "hdgi-x:epochs200-patience100"}))
    line = _comparison(tmp_path, READY)
    assert line is not None and line.startswith("standard rows: 1 seed")
    assert line.endswith("kgrec personas --dataset shop --reproduce hdgi-x:epochs200-patience100")
    same = dataclasses.replace(READY, persona_model="hdgi-x:epochs200-patience100")
    assert _comparison(tmp_path, same) == "standard rows: 1 seed"
    assert _comparison(tmp_path / "none", READY) is None
