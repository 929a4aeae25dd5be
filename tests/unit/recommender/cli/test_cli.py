from __future__ import annotations

import math
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
    assert (args.host, args.port, args.max_graph_requests) == ("127.0.0.1", 8000, 8)
    assert args.reload_every == 30.0 and args.version is None
    args = build_parser().parse_args(
        ["serve", "--dataset", "d", "--max-graph-requests", "32", "--reload-every", "0"]
    )
    assert args.max_graph_requests == 32 and args.reload_every == 0
    args = build_parser().parse_args(["train", "--dataset", "ml-100k", "--fusion", "output"])
    assert args.fusion == "output" and args.epochs == 200
    monkeypatch.setenv("KGREC_HOME", str(tmp_path))
    assert main(["plot", "evaluation", "--dataset", "ml-100k"]) == 2
    assert "run `kgrec train --dataset ml-100k`" in capsys.readouterr().err


def test_hdgi_options_become_the_hdgi_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from recommender.cli import common
    from recommender.config import HDGIConfig

    args = build_parser().parse_args(["probe", "--dataset", "d"])
    assert common.hdgi_config(args) == HDGIConfig()
    args = build_parser().parse_args(
        ["personas", "--dataset", "d", "--taste-weight", "0", "--lr", "0.01", "--epochs", "7"]
    )
    assert common.hdgi_config(args) == HDGIConfig(taste_weight=0.0, lr=0.01, epochs=7)
    # The persona size of `kgrec personas` follows the User vector index's dimension.
    monkeypatch.setenv("KGREC_PERSONA_DIM", "32")
    common.settings.cache_clear()
    try:
        args = build_parser().parse_args(["personas", "--dataset", "d"])
        assert common.hdgi_config(args) == HDGIConfig(hidden_channels=32)
    finally:
        common.settings.cache_clear()


def test_chat_concurrency_comes_from_the_option_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from recommender.cli import common
    from recommender.cli.backends import make_generator

    monkeypatch.setenv("KGREC_HOME", str(tmp_path))
    base = ["describe", "--dataset", "d", "--chat-endpoint", "http://127.0.0.1:9/v1"]
    base += ["--chat-model", "m"]
    common.settings.cache_clear()
    try:
        for extra, env, expected in (
            ([], None, 8),
            ([], "3", 3),
            (["--chat-concurrency", "2"], "3", 2),
        ):
            if env is not None:
                monkeypatch.setenv("KGREC_CHAT_CONCURRENCY", env)
                common.settings.cache_clear()
            generator = make_generator(build_parser().parse_args([*base, *extra]))
            assert generator.inner.concurrency == expected  # type: ignore[attr-defined]
            generator.close()  # type: ignore[attr-defined]
    finally:
        common.settings.cache_clear()
    with pytest.raises(SystemExit):
        build_parser().parse_args([*base, "--chat-concurrency", "0"])


def test_comparison_options_become_the_sasrec_config() -> None:
    from recommender.cli import common
    from recommender.config import SASRecConfig

    for name in ("comparison", "table3"):
        args = build_parser().parse_args(["experiment", name, "--dataset", "d"])
        assert common.sasrec_config(args) == SASRecConfig()
    args = build_parser().parse_args(
        ["experiment", "table3", "--dataset", "d", "--no-item-residual", "--negatives", "8",
         "--user-dropout", "0.25", "--batch-size", "32", "--hidden", "16", "--max-len", "20"]
    )  # fmt: skip
    assert common.sasrec_config(args) == SASRecConfig(
        item_residual=False, negatives=8, user_dropout=0.25, batch_size=32, hidden=16, max_len=20
    )
    args = build_parser().parse_args(["train", "--dataset", "d", "--epochs", "3"])
    assert common.sasrec_config(args) == SASRecConfig(epochs=3)
    assert args.stride_entry  # kgrec train tries the stride entry unless told not to
    args = build_parser().parse_args(["train", "--dataset", "d", "--no-stride-entry"])
    assert not args.stride_entry
    for command in (["train"], ["experiment", "compare"], ["experiment", "table3"]):
        args = build_parser().parse_args([*command, "--dataset", "d", "--window-stride", "5"])
        assert common.sasrec_config(args) == SASRecConfig(window_stride=5)


def test_an_invalid_setting_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checked before any connection: nothing listens on this port.
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    assert main(["train", "--dataset", "d", "--epochs", "0"]) == 2
    assert "kgrec: invalid setting" in capsys.readouterr().err
    assert main(["train", "--dataset", "d", "--window-stride", "51"]) == 2  # max_len is 50
    assert "window_stride (51) must be at most max_len (50)" in capsys.readouterr().err


def test_a_train_seed_outside_the_runs_seeds_is_refused_before_any_connection(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    command = ["experiment", "compare", "--dataset", "d", "--seeds", "3", "--train-seed"]
    assert main([*command, "3"]) == 2
    assert "--train-seed must be one of the run's seeds, 0 to 2, not 3" in capsys.readouterr().err
    assert main([*command, "-1"]) == 2


def test_an_unsafe_dataset_name_is_refused_before_anything_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    assert main(["ingest", "toy", "--path", str(tmp_path), "--name", "../escape"]) == 2
    assert "dataset name '../escape' must be" in capsys.readouterr().err


def test_attention_entropy_is_zero_for_one_path_and_one_for_all_alike() -> None:
    from learners.hdgi.encoder import attention_entropy

    assert attention_entropy([1.0, 0.0, 0.0]) < 1e-9
    assert abs(attention_entropy([0.25] * 4) - 1.0) < 1e-12
    assert abs(attention_entropy([0.5, 0.5, 0.0]) - math.log(2) / math.log(3)) < 1e-9
    assert attention_entropy([1.0]) == 0.0


def test_compare_says_which_recbole_peers_will_train_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Peers default to all of them, hours each on a CPU: the command says so first."""
    monkeypatch.setenv("NEO4J_URI", "bolt://neo4j.invalid:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    monkeypatch.setenv("KGREC_HOME", str(tmp_path / "home"))
    command = ["experiment", "compare", "--dataset", "d", "--out", str(tmp_path), "--budget", "2"]
    assert main(command) == 2  # no graph: it stops there
    said = capsys.readouterr().out
    assert "RecBole peers: SASRec, " in said and "up to 2 configurations" in said
    assert main([*command, "--peers"]) == 2
    assert "RecBole peers" not in capsys.readouterr().out
