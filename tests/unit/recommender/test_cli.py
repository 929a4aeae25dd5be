from __future__ import annotations

from pathlib import Path

import pytest

from recommender.cli import build_parser, main


def test_malformed_dataset_fails_before_any_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "toy.inter").write_text("user_id:token\titem_id:token\nu1\n", encoding="utf-8")
    # Any attempt to reach Neo4j would fail loudly: nothing listens on this port.
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    code = main(["ingest", "toy", "--path", str(folder), "--format", "recbole"])
    assert code == 2
    assert f"kgrec: {folder / 'toy.inter'}:2: expected 2 fields, found 1" in capsys.readouterr().err


def test_missing_dataset_path_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "nothing", "--path", str(tmp_path / "absent")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_unreachable_remote_neo4j_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://neo4j.invalid:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    assert main(["stats"]) == 2
    assert "cannot reach Neo4j" in capsys.readouterr().err


def test_parser_requires_a_dataset_for_explanations() -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["explain", "user", "1"])
    assert info.value.code == 2


def test_neo4j_command_refuses_to_manage_a_remote_server(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://db.example:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    assert main(["neo4j", "start"]) == 2
    assert "only provisions a server on 127.0.0.1" in capsys.readouterr().err


def test_product_commands_parse_and_fail_clearly_without_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = build_parser().parse_args(
        ["recommend", "50", "172", "--dataset", "ml-100k", "--user", "1", "-k", "3", "--explain"]
    )
    assert args.items == ["50", "172"] and args.user == "1" and args.k == 3 and args.explain
    args = build_parser().parse_args(["serve", "--dataset", "ml-100k"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    args = build_parser().parse_args(["train", "--dataset", "ml-100k", "--fusion", "output"])
    assert args.fusion == "output" and args.epochs == 200
    monkeypatch.setenv("KGREC_HOME", str(tmp_path))
    assert main(["plot", "evaluation", "--dataset", "ml-100k"]) == 2
    assert "run `kgrec train --dataset ml-100k`" in capsys.readouterr().err


def test_hdgi_options_default_to_the_trainers_defaults() -> None:
    import inspect

    from learners.hdgi.train import train_hdgi

    defaults = inspect.signature(train_hdgi).parameters
    for command in (["personas", "--dataset", "d"], ["probe", "--dataset", "d"]):
        args = build_parser().parse_args(command)
        assert args.epochs == defaults["epochs"].default
        assert args.lr == defaults["lr"].default
        assert args.taste_weight == defaults["taste_weight"].default
        assert args.profile_weight == defaults["profile_weight"].default
        assert args.patience == defaults["patience"].default
    args = build_parser().parse_args(["personas", "--dataset", "d", "--taste-weight", "0"])
    assert args.taste_weight == 0.0


def test_table3_options_default_to_the_experiments_settings() -> None:
    from recommender.experiment import SASRecSettings

    settings = SASRecSettings()
    args = build_parser().parse_args(["experiment", "table3", "--dataset", "d"])
    assert args.user_dropout == settings.user_dropout
    assert args.item_residual == settings.item_residual
    assert (args.epochs, args.patience) == (settings.epochs, settings.patience)
    assert (args.hidden, args.max_len) == (settings.hidden, settings.max_len)
    assert args.batch_size == settings.batch_size
