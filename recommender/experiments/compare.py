"""``kgrec experiment compare``: kgrec's rows, the controls and tuned RecBole peers on one
dataset, every model scored by the one evaluator and tuned on the same validation budget.

Steps, each resumable (kept models and peer runs are found again by their fingerprints):
the analysis plan is written first (:mod:`~recommender.experiments.plan`; it is never
rewritten, so what was planned before any test figure was seen stays on record); kgrec's
SASRec configuration is chosen on validation from
:data:`~recommender.experiments.grids.KGREC_GRID` (plain SASRec, seed 0); the retriever
comparison runs with it, controls included; each peer's configuration is chosen on
validation from its grid (seed 0), then run with every seed
(:mod:`~recommender.experiments.peers.grid`); the report compares the full pipeline with
the strongest peer (by validation) and with the ensembling control.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from recommender.config import SASRecConfig
from recommender.evaluation.metrics import summarise
from recommender.evaluation.sessions import SESSION_LENGTH
from recommender.experiments.comparison import RetrieverComparison
from recommender.experiments.fingerprint import experiment_fingerprint
from recommender.experiments.grids import BUDGET, kgrec_configs
from recommender.experiments.peers.driver import PeerResult
from recommender.experiments.peers.grid import PeerRuns, strongest
from recommender.experiments.runs import BLENDED, PLAIN_BLEND, Row, RunResult, Selection
from recommender.experiments.runstore import RunStore
from recommender.experiments.scenarios import (
    ANONYMOUS_PREFIX,
    PEER_KEY,
    SWEEP_LENGTHS,
    UNSEEN_PREFIX,
    anonymous_stage,
)
from recommender.experiments.unseen import unseen_stage
from recommender.pipelines.inputs import PLAIN, TrainingInputs, fit
from recommender.util.files import write_text_atomic
from recommender.util.markdown import table as markdown_table


def peer_row(model: str) -> Row:
    return Row(f"peer-{model.lower()}", f"Peer: RecBole {model} (tuned, kgrec's evaluator)")


def choose_kgrec(
    inputs: TrainingInputs,
    base: SASRecConfig,
    device: str,
    store_root: Path,
    limit: int = BUDGET,
    progress: bool = True,
    log: Callable[[str], None] = print,
    record: Path | None = None,
) -> tuple[SASRecConfig, Selection]:
    """kgrec's SASRec configuration with the best validation NDCG@10 of the plain SASRec
    (seed 0) over the grid; models are kept where the comparison finds them again. With
    ``record``, the validation figures are read from that file when it exists (nothing is
    trained) and written to it when they were not."""
    configs = kgrec_configs(base, limit)
    if record is not None and record.exists():
        valids = [float(v) for v in json.loads(record.read_text(encoding="utf-8"))["valid"]]
        for config, valid in zip(configs, valids, strict=True):
            log(f"kgrec SASRec {_changes(config, base)}: valid NDCG@10 {valid:.4f} (recorded)")
        return _chosen(base, list(zip(configs, valids, strict=True)))
    tried: list[tuple[SASRecConfig, float]] = []
    for config in configs:
        store = RunStore(store_root / experiment_fingerprint(inputs, config, device))
        stored = store.load(PLAIN.key, None, 0)
        if stored is not None:
            valid = stored.result.best_valid
        else:
            model, result = fit(PLAIN, None, inputs, config, 0, device, progress,
                                resume=store.progress(PLAIN.key, None, 0))  # fmt: skip
            store.save(PLAIN.key, None, 0, model, result)
            valid = result.best_valid
        log(f"kgrec SASRec {_changes(config, base)}: valid NDCG@10 {valid:.4f}")
        tried.append((config, valid))
    if record is not None:
        write_text_atomic(record, json.dumps({"valid": [valid for _, valid in tried]}))
    return _chosen(base, tried)


def _chosen(
    base: SASRecConfig, tried: list[tuple[SASRecConfig, float]]
) -> tuple[SASRecConfig, Selection]:
    chosen = max(tried, key=lambda pair: pair[1])[0]  # ties: the first, nearer the defaults
    selection = Selection(
        "kgrec SASRec", [(_changes(c, base), v) for c, v in tried], _changes(chosen, base)
    )
    return chosen, selection


def add_peers(
    comparison: RetrieverComparison,
    peers: dict[str, PeerRuns],
    log: Callable[[str], None] = print,
) -> Row | None:
    """The peers' runs as rows of ``comparison`` (their test ranks are of the same users, in
    the same order), and the strongest peer (best mean validation NDCG@10) in the
    anonymous-session scenario (``log`` says why when it cannot be); returns the strongest
    peer's row, or None without peers."""
    users, cold = comparison.users, comparison.cold
    for model, runs in peers.items():
        for result in runs.runs:
            if len(result.test_ranks) != len(users):
                raise ValueError(
                    f"{model} ranked {len(result.test_ranks)} test targets, not the "
                    f"comparison's {len(users)}"
                )
            comparison.runs.append(
                RunResult(
                    peer_row(model),
                    result.seed,
                    None,
                    {"NDCG@10": result.best_valid},
                    summarise(result.test_ranks),
                    summarise(result.test_ranks[cold]) if cold.any() else None,
                    result.test_ranks,
                    seconds_per_epoch=result.seconds_per_epoch,
                    best_epoch=result.best_epoch,
                )
            )
    best = strongest(peers)
    if best is None:
        return None
    _add_anonymous(comparison, best, peers[best], log)
    return peer_row(best)


def add_unseen_peer(comparison: RetrieverComparison, model: str, runs: list[PeerResult]) -> None:
    """The strongest peer's runs without the held-out users
    (:func:`~recommender.experiments.peers.grid.run_unseen_peer`) as a row of the unseen-user
    scenario (their whole arriving history) and a line of its sweep by history length."""
    label = f"Unseen users: strongest tuned peer (RecBole {model}) on their history"
    found = [
        (run.seed, {n: run.scored_ranks[unseen_stage(n)] for n in SWEEP_LENGTHS}) for run in runs
    ]
    _add_scenario_peer(comparison, Row(UNSEEN_PREFIX + PEER_KEY, label), found, None, cold=False)


def _add_anonymous(
    comparison: RetrieverComparison, model: str, runs: PeerRuns, log: Callable[[str], None]
) -> None:
    """The strongest peer in the anonymous-session scenario, where the comparison has it
    and every run of the peer ranked its sessions: a row at the scenario's session length
    and a line of its sweep (the whole history is the standard test)."""
    stage = anonymous_stage(SESSION_LENGTH)
    if not comparison.scenario_rows(ANONYMOUS_PREFIX):
        return
    if not all(stage in run.scored_ranks for run in runs.runs):
        log(
            f"the anonymous-session scenario has no {model} row: its runs were recorded before "
            "peer runs ranked anonymous sessions (remove their records to train them again)"
        )
        return
    label = f"Anonymous session: strongest tuned peer (RecBole {model})"
    found: list[tuple[int, dict[int | None, np.ndarray]]] = []
    for run in runs.runs:
        by_length: dict[int | None, np.ndarray] = {None: run.test_ranks}  # the whole history
        for n in SWEEP_LENGTHS:
            if n is not None and anonymous_stage(n) in run.scored_ranks:
                by_length[n] = run.scored_ranks[anonymous_stage(n)]
        found.append((run.seed, by_length))
    row = Row(ANONYMOUS_PREFIX + PEER_KEY, label)
    _add_scenario_peer(comparison, row, found, SESSION_LENGTH, cold=True)


def _add_scenario_peer(
    comparison: RetrieverComparison,
    row: Row,
    found: list[tuple[int, dict[int | None, np.ndarray]]],
    length: int | None,
    cold: bool,
) -> None:
    """Each seed's ranks by session length (``found``) as ``row`` at ``length`` (scored on
    the cold users too where ``cold``) and as a line of the sweep under the row's prefix."""
    prefix = row.key.removesuffix(PEER_KEY)
    sweep = comparison.sweep.setdefault(prefix, {}).setdefault(PEER_KEY, {})
    mask = comparison.cold
    for seed, by_length in found:
        ranks = by_length[length]
        cold_metrics = summarise(ranks[mask]) if cold and mask.any() else None
        comparison.runs.append(
            RunResult(row, seed, None, {}, summarise(ranks), cold_metrics, ranks)
        )
        for n in SWEEP_LENGTHS:  # in the sweep's order: "all" last
            if n in by_length:
                sweep.setdefault(str(n or "all"), []).append(summarise(by_length[n])["NDCG@10"])


def primary_pairs(strongest_peer: Row | None) -> list[tuple[Row, Row]]:
    """The primary comparison: the full pipeline against the strongest tuned peer, then
    against the ensembling control."""
    pairs = [(BLENDED, PLAIN_BLEND)]
    return [(BLENDED, strongest_peer), *pairs] if strongest_peer is not None else pairs


def native_lines(peers: dict[str, PeerRuns]) -> list[str]:
    """The peers under RecBole's own evaluator on RecBole's own test split (the native
    protocol), labelled as such: not comparable with the rows scored by kgrec's evaluator."""
    rows = []
    for model, runs in peers.items():
        native = [run.native_test for run in runs.runs if run.native_test]
        if not native:
            continue
        keys = ("hit@10", "ndcg@10", "mrr@10", "hit@100", "ndcg@100")
        cells = []
        for key in keys:
            values = [found[key] for found in native if key in found]
            cells.append(f"{np.mean(values):.4f} ± {np.std(values):.4f}" if values else "-")
        rows.append((f"RecBole {model} (native protocol, {len(native)} seeds)", *cells))
    if not rows:
        return []
    return [
        "## Peers under their framework's own evaluator (native protocol)",
        "",
        "RecBole 1.2.1's full-sort test evaluation of the same trained models (the chosen "
        "configuration, every seed), as a RecBole user would report them. For sequential "
        "models it ranks the user's earlier items too, where kgrec's evaluator leaves them "
        "out, so these figures are not comparable with the tables above.",
        "",
        *markdown_table(("model", "HR@10", "NDCG@10", "MRR@10", "HR@100", "NDCG@100"), rows),
        "",
    ]


def selection_lines(
    selections: list[Selection], personas: str | None = None, user_dropout: float | None = None
) -> list[str]:
    """The report's tuning section: what each model tried and chose on validation, and the
    settings chosen elsewhere (the personas' model, the user dropout kept fixed)."""
    lines = ["## Tuning on validation", ""]
    for selection in selections:
        lines.append(f"- **{selection.model}**: chosen {selection.chosen}; tried " + "; ".join(
            f"{name} {valid:.4f}" for name, valid in selection.tried
        ))  # fmt: skip
    if personas is not None:
        lines.append(
            f"- **Personas**: model `{personas}`, as `kgrec personas` published them (a name "
            "ending in `:epochs…-patience…` is the training length it chose on validation)."
        )
    if user_dropout is not None:
        lines.append(
            f"- **User dropout** of the rows with a user vector: {user_dropout:g}, not tuned "
            "here: every model's budget goes to the settings all its rows share."
        )
    return [*lines, ""]


def _changes(config: SASRecConfig, base: SASRecConfig) -> str:
    defaults = base.model_dump()
    changed = [f"{k}={v}" for k, v in config.model_dump().items() if v != defaults[k]]
    return "(" + ", ".join(changed) + ")" if changed else "(defaults)"
