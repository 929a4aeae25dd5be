"""Seed records: a seed read from its record gives the same runs as the seed that made it,
without training or loading a model; the fusion it chose carries over to later seeds; the
record's key changes with the code that made it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from learners.epochs import EpochLog
from recommender.config import SASRecConfig
from recommender.experiments import companions as companions_module
from recommender.experiments import seedrecords, session_graphs
from recommender.experiments.companions import Companions
from recommender.experiments.comparison import run_comparison
from recommender.experiments.runs import Row, RunResult
from recommender.experiments.seedrecords import (
    RowRecords,
    SeedRecord,
    SeedRecords,
    add_sweep,
    describe_folder,
    folder_key,
    kept_lines,
    key_differences,
    key_settings,
    records_key,
    records_path,
)
from recommender.pipelines import inputs as training
from recommender.util.hashing import fingerprint
from tests.unit.recommender.experiments.test_runstore import ROWS, inputs


def test_a_record_round_trips_every_field(tmp_path: Path) -> None:
    run = RunResult(
        Row("blend", "Blend"), 2, "output", {"NDCG@10": 0.25}, {"HR@10": 0.5}, {"HR@10": 0.1},
        np.array([0, 7, 3]), [EpochLog(0, 1.5, 0.2, 3.0)], 3.0, 0, 0.6, {"ARP@10": 12.0},
    )  # fmt: skip
    records = SeedRecords(tmp_path / "key")
    assert records.load(2) is None
    records.save(SeedRecord(2, [run], {"kg": "output"}, {"none": {"1": 0.1}}, "m", "v"))
    record = records.load(2)
    assert record is not None and record.machine == "m" and record.inputs == "v" and record.made
    (again,) = record.runs
    np.testing.assert_array_equal(again.ranks, run.ranks)
    assert (again.row, again.seed, again.fusion, again.valid, again.test, again.cold) == (
        run.row, run.seed, run.fusion, run.valid, run.test, run.cold,
    )  # fmt: skip
    assert (again.curve, again.weight, again.lists, again.best_epoch) == (
        run.curve, run.weight, run.lists, run.best_epoch,
    )  # fmt: skip
    assert record.fusion == {"kg": "output"} and record.sweep == {"none": {"1": 0.1}}
    sweep: dict[str, dict[str, list[float]]] = {"none": {"1": [0.3]}}
    add_sweep(sweep, record.sweep)
    assert sweep == {"none": {"1": [0.3, 0.1]}}


def test_a_recorded_seed_is_read_not_trained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SASRecConfig(hidden=16, epochs=2, patience=2)
    records = SeedRecords(tmp_path / "seeds")
    first = run_comparison(
        inputs(), settings, (0,), ROWS, "cpu", progress=False, log=lambda _: None,
        records=records, record_as=("this machine", "abc"),
    )  # fmt: skip
    assert records.path(0).exists()
    trained: list[tuple[str, object, int]] = []
    real_fit = training.fit

    def counting_fit(variant: training.RetrieverVariant, fusion: object, *args: object,
                     **kwargs: object) -> object:  # fmt: skip
        trained.append((variant.key, fusion, args[2]))  # type: ignore[arg-type]
        return real_fit(variant, fusion, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "fit", counting_fit)
    lines: list[str] = []
    second = run_comparison(
        inputs(), settings, (0, 1), ROWS, "cpu", progress=False, log=lines.append,
        records=records,
    )  # fmt: skip
    # Seed 0 is read (no store: nothing to load); seed 1 trains once per row, the persona
    # row only under the fusion seed 0 chose, and is recorded in turn.
    assert "seed 0: every standard row read from its record (no model trained)" in lines
    assert {seed for _, _, seed in trained} == {1, 1001}
    persona_fusions = {f for key, f, _ in trained if key != ROWS[0].key}
    assert persona_fusions == {first.fusion[ROWS[1].key]}
    assert records.path(1).exists()
    for run in first.runs:
        again = next(r for r in second.runs if r.row == run.row and r.seed == 0)
        np.testing.assert_array_equal(again.ranks, run.ranks)
        assert (again.test, again.cold, again.weight) == (run.test, run.cold, run.weight)
    assert second.fusion == first.fusion


def test_the_key_names_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = {"sequences": "s", "settings": {"hidden": 64}}
    key = records_key(asked)
    assert key == records_key(dict(asked))
    assert key != records_key({**asked, "settings": {"hidden": 32}})
    monkeypatch.setattr(seedrecords, "code_version", lambda: "another version")
    assert records_key(asked) != key


def test_a_recorded_companion_row_is_read_and_a_new_one_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SASRecConfig(hidden=16, epochs=2, patience=2)
    seeds, rows = SeedRecords(tmp_path / "seeds"), RowRecords(tmp_path / "rows")
    first = run_comparison(
        inputs(), settings, (0,), ROWS, "cpu", progress=False, log=lambda _: None,
        companions=Companions(("srgnn",)), records=seeds, row_records=rows,
    )  # fmt: skip
    assert rows.path("srgnn", 0).exists()
    fitted: list[str] = []
    real_fit = session_graphs.fit_session_model

    def counting_fit(kind: str, *args: object, **kwargs: object) -> object:
        fitted.append(kind)
        return real_fit(kind, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(companions_module, "fit_session_model", counting_fit)
    monkeypatch.setattr(training, "fit", _no_training)
    # The standard rows and SR-GNN are read; only the row added now (GCE-GNN) is fitted.
    second = run_comparison(
        inputs(), settings, (0,), ROWS, "cpu", progress=False, log=lambda _: None,
        companions=Companions(("srgnn", "gcegnn")), records=seeds, row_records=rows,
    )  # fmt: skip
    assert fitted == ["gcegnn"]
    assert rows.path("gcegnn", 0).exists()
    keys = [run.row.key for run in second.runs]
    # Companion rows sit after the variants' rows and before the blends, as when trained.
    assert keys[: len(ROWS) + 2] == [*(v.key for v in ROWS), "srgnn", "gcegnn"]
    (before,) = [run for run in first.runs if run.row.key == "srgnn"]
    (again,) = [run for run in second.runs if run.row.key == "srgnn"]
    np.testing.assert_array_equal(again.ranks, before.ranks)
    assert again.test == before.test and again.lists == before.lists


def _no_training(*_: object, **__: object) -> object:
    raise AssertionError("a recorded row was trained again")


def test_records_of_an_earlier_version_declared_equivalent_are_read_and_extended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = {"sequences": "s"}
    monkeypatch.setattr(seedrecords, "code_version", lambda: "v3")
    own = tmp_path / records_key(asked, "v3")
    said: list[str] = []
    # Nothing declared: only this code's own records count.
    monkeypatch.setattr(seedrecords, "EQUIVALENT", {})
    (tmp_path / records_key(asked, "v1")).mkdir()
    assert records_path(tmp_path, asked, log=said.append) == own
    # v3 trains as v2 did, and v2 as v1: the newest earlier version with records is used.
    monkeypatch.setattr(seedrecords, "EQUIVALENT", {"v3": "v2", "v2": "v1", "v1": "v3"})
    assert seedrecords.code_versions() == ["v3", "v2", "v1"]  # a loop ends
    assert records_path(tmp_path, asked, log=said.append) == tmp_path / records_key(asked, "v1")
    assert "v1" in said[-1] and "v3" in said[-1]
    (tmp_path / records_key(asked, "v2")).mkdir()
    assert records_path(tmp_path, asked, log=said.append) == tmp_path / records_key(asked, "v2")
    # This code's own records come first; a file key takes its suffix.
    own.mkdir()
    assert records_path(tmp_path, asked, log=said.append) == own
    (tmp_path / f"{records_key(asked, 'v1')}.json").write_text("{}")
    assert records_path(tmp_path, asked, ".json", log=said.append).name == (
        f"{records_key(asked, 'v1')}.json"
    )
    # Records of a version not declared, or of other settings, are never read.
    monkeypatch.setattr(seedrecords, "EQUIVALENT", {"v3": "v2"})
    assert records_path(tmp_path, asked, ".json", log=said.append).name == (
        f"{records_key(asked, 'v3')}.json"
    )
    assert records_path(tmp_path, {"sequences": "other"}).parent == tmp_path
    assert not records_path(tmp_path, {"sequences": "other"}).exists()


def test_records_say_what_they_were_made_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = {"sequences": "s", "personas": "hdgi-a:epochs200-patience100", "gap": None}
    monkeypatch.setattr(seedrecords, "code_version", lambda: "v2")
    monkeypatch.setattr(seedrecords, "EQUIVALENT", {"v2": "v1"})
    # A set made by earlier code declared equivalent is described with that code's version.
    earlier = tmp_path / records_key(asked, "v1")
    earlier.mkdir()
    path = describe_folder(earlier, asked)
    assert path is not None and folder_key(earlier) == {**asked, "code": "v1"}
    assert fingerprint(folder_key(earlier)) == earlier.name  # its name digests exactly this
    # Nothing is written for a folder that is not there yet or is not this key's.
    assert describe_folder(tmp_path / records_key(asked, "v2"), asked) is None
    assert describe_folder(earlier, {**asked, "sequences": "other"}) == path  # kept once
    other = tmp_path / "not-a-key"
    other.mkdir()
    assert describe_folder(other, asked) is None and folder_key(other) is None
    # A new set describes itself on its first save.
    rows = RowRecords(tmp_path / records_key(asked, "v2"), asked)
    run = RunResult(Row("srgnn", "SR-GNN"), 1, None, {}, {}, {}, np.array([1]), [], 1.0)
    rows.save(run)
    assert folder_key(rows.folder) == {**asked, "code": "v2"}
    assert key_differences({**asked, "code": "v2"}, {**asked, "code": "v1"}) == ["code"]
    assert key_differences(asked, {"sequences": "s"}) == ["gap", "personas"]


def test_the_report_names_records_read_from_code_declared_equivalent() -> None:
    record = SeedRecord(seed=0, runs=[], fusion={}, machine="box", inputs="abc", made="today")
    plain = kept_lines([("the standard rows", [record])])
    assert "- the standard rows, seed 0: made today on box; vectors abc" in plain
    assert not any("earlier version of the code" in line for line in plain)
    said = kept_lines([("the standard rows", [record])], equivalent=["records made by code v1"])
    assert any("earlier version of the code" in line for line in said)
    assert "- records made by code v1" in said
    assert kept_lines([], equivalent=["records made by code v1"]) == []  # nothing was read


def test_a_setting_added_later_is_named_only_when_it_changes_the_training() -> None:
    """Records made before ``window_stride`` existed are found with it at its default, and
    not with it set."""
    before = {k: v for k, v in SASRecConfig().model_dump().items() if k != "window_stride"}
    assert key_settings(SASRecConfig()) == before
    assert key_settings(SASRecConfig(window_stride=5)) == {**before, "window_stride": 5}


def test_presentation_modules_leave_the_code_version_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The digest reads the modules that train, score or pick configurations, not the ones
    that write the report, the plan or the records listing."""
    read: list[str] = []

    def digest(*paths: Path) -> str:
        read.extend(path.name for path in paths)
        return "digest"

    monkeypatch.setattr(seedrecords, "code_digest", digest)
    assert seedrecords.code_version() == "digest"
    assert {"comparison.py", "standard_rows.py", "compare.py", "unseen.py", "grid.py"} <= set(read)
    assert not {"report.py", "report_sections.py", "plan.py", "record_listing.py"} & set(read)
    assert "recbole_runner.py" not in read  # peer runs only, keyed by the split
