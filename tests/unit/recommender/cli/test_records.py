"""What `kgrec experiment compare` says about records it cannot read."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.cli.records import report_other_records


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
