"""``kgrec experiment compare`` end to end on a small generated dataset in the real Neo4j:
the peers first by a ``--peers-only`` run, then kgrec's rows, the controls and the kept
peer runs, every model scored by the one evaluator, the analysis plan written first and
kept, a seed trained by a ``--train-seed`` run of its own and found kept, and a second run
that trains nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kgstore.graph import Graph
from kgstore.settings import Neo4jSettings, kgrec_home
from learners.semantics import SentenceTransformerEmbedder
from recommender.cli import main
from recommender.config import HDGIConfig
from recommender.pipelines.persona_learning import learn_personas
from recommender.pipelines.semantics import embed_dataset
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import generated


def test_compare_runs_kgrec_controls_and_a_peer(
    graph: Graph,
    neo4j_settings: Neo4jSettings,
    tmp_path: Path,
    minilm: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    venv = kgrec_home() / "bench" / "recbole-venv"  # shared across runs: built once
    home = tmp_path / "home"
    new_ingestor(graph, home).ingest(generated(graph.dataset, users=40))
    embed_dataset(graph, minilm, persona_dim=64, progress=False)
    learn_personas(graph, home, HDGIConfig(epochs=5), progress=False)
    for name, value in {
        "NEO4J_URI": neo4j_settings.uri,
        "NEO4J_USER": neo4j_settings.user,
        "NEO4J_PASSWORD": neo4j_settings.password,
        "NEO4J_DATABASE": neo4j_settings.database,
        "KGREC_HOME": str(home),
    }.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "results"
    command = [
        "experiment", "compare", "--dataset", graph.dataset, "--seeds", "2", "--epochs", "2",
        "--patience", "2", "--budget", "2", "--peers", "GRU4Rec", "KSR", "--venv", str(venv),
        "--out", str(out), "--quiet", "--unseen",
        "--session-graphs", "srgnn", "gcegnn", "llm-dmsrec-srgnn", "llm-dmsrec-srgnn-no-kl",
        "--augment", "sasrec", "srgnn", "--records", "records",
    ]  # fmt: skip
    # The peers first, alone, into a folder given relative to where the command runs.
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--peers-only"]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "GRU4Rec: chosen GRU4Rec(" in printed and "KSR: chosen KSR(" in printed
    assert "no report from a --peers-only run" in printed
    assert not list(home.rglob("*--seed*.pt"))  # none of kgrec's models
    peer_files = {p: p.stat().st_mtime_ns for p in (tmp_path / "records" / "peers").glob("*.json")}
    # Per peer: 2 configurations on seed 0, the chosen on seed 1; then the strongest again
    # without the unseen users, seeds 0 and 1.
    assert len(peer_files) == 8
    assert "without the unseen users: 2 run(s) kept" in printed
    # One seed's models trained by a process of its own first, as a second machine would.
    assert main([*command, "--train-seed", "1"]) == 0, capsys.readouterr().err
    assert "no report from a --train-seed run" in capsys.readouterr().out
    assert not out.joinpath(f"compare-{graph.dataset}.md").exists()
    table3 = home / "experiments" / "table3"
    assert {"seed0", "seed1"} <= {p.name.split("--")[2] for p in table3.rglob("*--seed*.pt")}
    assert list((table3 / graph.dataset / "unseen").rglob("*--seed1*.pt"))

    assert main(command) == 0, capsys.readouterr().err
    first = capsys.readouterr().out
    for line in first.splitlines():  # nothing of seed 1 trained again
        if line.startswith("seed 1 ") and " at epoch " in line:
            assert line.endswith("(kept from an earlier run)"), line
    # Seeds 0 and 1 were recorded by the --train-seed run: read, not trained or loaded.
    assert "seed 1: every standard row read from its record" in first
    assert "seed 1 srgnn: read from its record" in first
    assert "seed 1 unseen users: every row read from its record" in first
    partial = home / "experiments" / "compare" / graph.dataset / "partial"
    so_far = (partial / f"compare-{graph.dataset}.md").read_text(encoding="utf-8")
    assert so_far.startswith("# Comparison (partial: 2 of 2 seeds, no peers yet)")
    plan = out / f"compare-{graph.dataset}-plan.md"
    planned = plan.read_text(encoding="utf-8")
    assert "Primary comparison" in planned and "RecBole GRU4Rec" in planned
    assert "**Scenario: unseen users**" in planned and "LLM-DMsRec on SR-GNN" in planned
    assert "SR-GNN + counterfactual augmentation" in planned
    report = (out / f"compare-{graph.dataset}.md").read_text(encoding="utf-8")
    assert report.startswith(f"# Comparison on {graph.dataset}")
    assert "## Analysis plan (as written before the run)" in report
    assert "## Tuning on validation" in report and "- **GRU4Rec**: chosen GRU4Rec(" in report
    controls = report[report.index("## What the knowledge graph adds") :]
    first = controls.splitlines()[6]  # the first comparison: the blend against the peer
    assert first.startswith("| Blend: reranker and KG+LLM retriever") and "Peer: RecBole" in first
    for row in (
        "| Peer: RecBole GRU4Rec (tuned, kgrec's evaluator) |",
        "| Peer: RecBole KSR (tuned, kgrec's evaluator) |",
        "| Control: blend of two plain SASRecs",
        "| Control: blend of the reranker and the Random / Description (LLM) retriever |",
        "| KG+LLM (shuffled) / Description (LLM) |",
        "| SR-GNN (session graph, kgrec's evaluator; SASRec's settings, not tuned) |",
        "| GCE-GNN (session and global graphs, kgrec's evaluator; SASRec's settings, not tuned) |",
        "| LLM-DMsRec on SR-GNN (intents from the generator named below; SASRec's settings, "
        "not tuned) |",
        "| LLM-DMsRec on SR-GNN, without KL (intents from the generator named below; "
        "SASRec's settings, not tuned) |",
    ):
        assert row in report, row
    assert "## LLM-DMsRec's intents" in report and "SmolLM2-135M-Instruct" in report
    for row in (
        "| SASRec + counterfactual augmentation (guided diffusion, tail targets) |",
        "| SR-GNN + counterfactual augmentation (guided diffusion, tail targets) |",
    ):
        assert row in report, row
    assert "## Counterfactual augmentation" in report
    bias = report[report.index("## Popularity bias") :]
    augmented_row = next(line for line in bias.splitlines() if "SASRec + counterfactual" in line)
    coverage = float(augmented_row.split("|")[4].split("±")[0])
    assert 0.0 < coverage <= 1.0
    assert len(list((home / "experiments" / "table3").rglob("intents-srgnn-*.npz"))) == 1
    # The session-graph papers' measures, from the same ranks
    paper = report[report.index("## P@K and MRR@K") :]
    assert "| P@5 | P@10 | P@20 | MRR@5 | MRR@10 | MRR@20 |" in paper.splitlines()[4]
    # The peer under RecBole's own evaluator too, labelled as the native protocol.
    native = report[report.index("## Peers under their framework's own evaluator") :]
    row = next(line for line in native.splitlines() if line.startswith("| RecBole GRU4Rec"))
    assert "native protocol, 2 seeds" in row
    assert float(row.split("|")[3].split("±")[0]) > 0  # NDCG@10 (k = 100 exceeds 41 items)
    # The anonymous-session scenario: its rows, in a section and Holm family of their own.
    anonymous = report[report.index("## Scenario: anonymous sessions") :]
    for label in (
        "Anonymous session: plain SASRec on the session",
        "Anonymous session: blend, no persona",
        "Anonymous session: blend, persona of the 20 users sharing most items",
        "Anonymous session: blend, KG persona by the trained HDGI encoder",
        "Anonymous session: control, blend of two plain SASRecs",
    ):
        assert f"| {label} |" in anonymous, label
        assert f"| {label} |" not in report[: report.index("## Scenario: anonymous")], label
    assert "By length of the items the models read" in anonymous
    # The strongest peer (by validation) on the same sessions, from its own runs' ranks.
    assert "| Anonymous session: strongest tuned peer (RecBole " in anonymous
    unseen = report[report.index("## Scenario: unseen users") :]
    for key in ("plain SASRec on their history", "blend, no persona",
                "blend, KG persona by the trained HDGI encoder (inductive)",
                "control, blend of two plain SASRecs"):  # fmt: skip
        assert f"| Unseen users: {key} |" in unseen, key
    assert "| Unseen users: strongest tuned peer (RecBole " in unseen
    assert "4 users." in unseen  # 10% of 40
    assert "By length of the items the models read" in unseen
    raw = json.loads((out / f"compare-{graph.dataset}.json").read_text())
    lengths = {"1", "2", "3", "5", "10", "all"}
    for scenario in ("anonymous", "unseen"):
        assert set(raw["by_length"][f"{scenario}-"]["encoder"]) == lengths
        assert set(raw["by_length"][f"{scenario}-"]["peer"]) == lengths
        assert (out / f"compare-{graph.dataset}-{scenario}-by-length.png").stat().st_size > 0
    anonymous_peer = [run for run in raw["runs"] if run["key"] == "anonymous-peer"]
    assert [run["seed"] for run in anonymous_peer] == [0, 1]
    peer_runs = [run for run in raw["runs"] if run["key"] == "peer-gru4rec"]
    assert [run["seed"] for run in peer_runs] == [0, 1]
    assert all(0.0 <= value <= 1.0 for run in peer_runs for value in run["test"].values())

    # The peers' runs were the --peers-only run's: none trained again.
    peers_now = {p: p.stat().st_mtime_ns for p in (tmp_path / "records" / "peers").glob("*.json")}
    assert peers_now == peer_files

    # Again: every model is found, the plan is kept as it was, the report is the same.
    capsys.readouterr()
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "analysis plan kept as written before" in printed
    assert "seed 0: every standard row read from its record" in printed
    assert plan.read_text(encoding="utf-8") == planned
    again = (out / f"compare-{graph.dataset}.md").read_text(encoding="utf-8")
    strip = [line for line in again.splitlines() if "minutes in all" not in line]
    assert strip == [line for line in report.splitlines() if "minutes in all" not in line]

    assert "## Read from records" in report and "- unseen users, seed 1: made " in report

    # Sessions cut at inactivity gaps (every gap here is one second: one session per user):
    # the session-graph rows train again under their own tag; the report says so.
    assert main([*command, "--session-gap", "0.5"]) == 0
    gapped = (out / f"compare-{graph.dataset}.md").read_text(encoding="utf-8")
    assert "## Sessions" in gapped and "more than 0.5 hours apart" in gapped
    assert "--session-gap 0.5" in gapped
    kept = {p.name for p in (home / "experiments" / "table3").rglob("*.pt")}
    assert any(name.startswith("srgnn--") and "-gap1800s" in name for name in kept)
    assert any(name.startswith("srgnn-augmented--") and "-gap1800s" in name for name in kept)

    # A new machine with the records alone (no model kept): the same report, nothing trained.
    shutil.rmtree(home / "experiments" / "table3")
    capsys.readouterr()
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert " at epoch " not in printed, printed
    assert "(recorded)" in printed  # kgrec's configuration choice too
    # The --session-gap run's companion rows stand for other settings: said, not read, with
    # the field of their key that differs (their key.json).
    assert "are not read: made with other session_gap" in printed
    rebuilt = (out / f"compare-{graph.dataset}.md").read_text(encoding="utf-8")
    assert [line for line in rebuilt.splitlines() if "minutes in all" not in line] == strip

    # kgrec's configuration choice says what it was made from, for a run with other settings
    (described,) = (tmp_path / "records" / "selection").glob("*.key.json")
    assert json.loads(described.read_text())["budget"] == 2

    # What the records hold, in words.
    capsys.readouterr()
    assert main(["experiment", "records", "--records", "records"]) == 0
    listed = capsys.readouterr().out
    assert "peer runs: 8 finished, 0 in progress or stopped" in listed
    assert "seed 1 without the held-out users: finished" in listed  # the unseen scenario's
    assert "standard rows [" in listed and "seeds 0, 1" in listed
    assert "companion rows [" in listed and "srgnn seeds 0, 1" in listed
