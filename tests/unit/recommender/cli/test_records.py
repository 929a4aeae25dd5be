"""What `kgrec experiment compare` says about records it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommender.cli.records import (
    choice_record,
    describe_choice,
    open_records,
    report_other_records,
    say_other_personas,
)
from recommender.experiments import seedrecords
from recommender.experiments.seedrecords import SeedRecords, folder_key, records_key
from recommender.util.hashing import fingerprint


def test_records_of_other_inputs_are_named_with_how_to_get_their_personas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "seeds" / "made-elsewhere").mkdir(parents=True)
    report_other_records(tmp_path / "seeds" / "mine")
    said = capsys.readouterr().out
    assert "1 other set(s) of records" in said and "its own go to mine/" in said
    assert "kgrec personas --reproduce MODEL" in said


def test_nothing_is_said_when_there_are_no_other_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "seeds" / "mine").mkdir(parents=True)
    report_other_records(tmp_path / "seeds" / "mine")
    report_other_records(tmp_path / "rows" / "mine")  # no folder at all yet
    assert capsys.readouterr().out == ""


def test_records_made_with_other_personas_say_which_and_how_to_train_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seedrecords, "code_version", lambda: "v1")
    theirs = {"sequences": "s", "personas": "hdgi-x:pathnorm-epochs200-patience100"}
    made = tmp_path / "seeds" / records_key(theirs, "v1")
    made.mkdir(parents=True)
    seedrecords.describe_folder(made, theirs)
    mine = {"sequences": "s", "personas": "hdgi-x:epochs800-patience100"}
    # as `kgrec experiment compare` does: other personas said first, then the records opened
    say_other_personas(tmp_path, mine, "shop", log=print)
    records = open_records(SeedRecords, tmp_path / "seeds", mine, log=print)
    said = capsys.readouterr().out
    assert f"records in {made} are not read: made with other personas" in said
    assert "kgrec personas --dataset shop --reproduce hdgi-x:pathnorm-epochs200-patience100" in said
    assert records.folder.name == records_key(mine, "v1") and not records.folder.exists()
    # once this run's own set exists, it says what it was made from
    records.folder.mkdir()
    open_records(SeedRecords, tmp_path / "seeds", mine, log=print)
    assert folder_key(records.folder) == {**mine, "code": "v1"}


def test_other_personas_are_said_before_anything_trains(tmp_path: Path) -> None:
    asked = {"sequences": "s", "personas": "hdgi-x:epochs800-patience100", "device": "cpu"}
    for part, theirs in (
        ("seeds", {**asked, "personas": "hdgi-x:pathnorm-epochs200-patience100", "rows": []}),
        ("rows", {**asked, "personas": "hdgi-x:pathnorm-epochs200-patience100", "gap": None}),
        ("unseen", {**asked, "sequences": "other", "personas": "hdgi-y"}),  # other data too
        ("seeds", {**asked, "rows": ["more"]}),  # the same personas
    ):
        made = tmp_path / part / fingerprint(theirs)
        made.mkdir(parents=True, exist_ok=True)
        (made / "key.json").write_text(json.dumps(theirs))
    said: list[str] = []
    found = say_other_personas(tmp_path, asked, "shop", log=said.append)
    assert found == ["hdgi-x:pathnorm-epochs200-patience100"]
    (line,) = said
    assert line.endswith(
        "kgrec personas --dataset shop --reproduce hdgi-x:pathnorm-epochs200-patience100"
    )
    assert say_other_personas(tmp_path / "none", asked, "shop", log=said.append) == []


def test_a_choice_made_with_other_settings_is_said_before_the_choice_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seedrecords, "code_version", lambda: "v1")
    base = {"epochs": 200, "patience": 10, "batch_size": 16}
    theirs = {"sequences": "s", "personas": "p", "base": base, "budget": 2}
    record = tmp_path / "selection" / f"{records_key(theirs, 'v1')}.json"
    assert describe_choice(record, theirs) is None  # nothing recorded yet
    record.parent.mkdir()
    record.write_text('{"valid": [0.11, 0.12]}')
    written = describe_choice(record, theirs)
    assert written == record.with_name(record.name.removesuffix(".json") + ".key.json")
    assert json.loads(written.read_text()) == {**theirs, "code": "v1"}
    stranger = tmp_path / "selection" / "not-its-key.json"
    stranger.write_text('{"valid": [0.1]}')
    assert describe_choice(stranger, theirs) is None  # its name is not the key of these

    mine = {**theirs, "base": {**base, "epochs": 50}, "budget": 6}
    said: list[str] = []
    own = choice_record(tmp_path / "selection", mine, log=said.append)
    assert own.name == f"{records_key(mine, 'v1')}.json" and not own.exists()
    (line,) = said
    assert str(record) in line and "this run chooses again" in line
    assert "base.epochs 200 there, 50 here" in line and "budget 2 there, 6 here" in line
    assert "patience" not in line and "personas" not in line
    assert "code" not in line
    # a choice made by code declared equivalent to this one differs in its settings only
    monkeypatch.setattr(seedrecords, "code_versions", lambda: ["v2", "v1"])
    monkeypatch.setattr(seedrecords, "code_version", lambda: "v2")
    choice_record(tmp_path / "selection", mine, log=said.append)
    assert len(said) == 2 and str(record) in said[-1]
    assert "code" not in said[-1] and "budget 2 there, 6 here" in said[-1]
    monkeypatch.setattr(seedrecords, "code_versions", lambda: ["v3"])
    monkeypatch.setattr(seedrecords, "code_version", lambda: "v3")
    choice_record(tmp_path / "selection", mine, log=said.append)
    assert "code 'v1' there, 'v3' here" in said[-1]
    other_data = {**mine, "sequences": "t"}
    before = len(said)
    choice_record(tmp_path / "selection", other_data, log=said.append)
    assert len(said) == before  # records of other data are not this run's business
    # a recorded choice is read (under the code it was made by): nothing said
    monkeypatch.setattr(seedrecords, "code_versions", lambda: ["v1"])
    monkeypatch.setattr(seedrecords, "code_version", lambda: "v1")
    assert choice_record(tmp_path / "selection", theirs, log=said.append) == record
    assert len(said) == before
