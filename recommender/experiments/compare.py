"""``kgrec experiment compare``: kgrec's rows, the controls and tuned RecBole peers on one
dataset, every model scored by the one evaluator and tuned on the same validation budget.

Steps, each resumable (kept models and peer runs are found again by their fingerprints):
the analysis plan is written first (it is never rewritten, so what was planned before any
test figure was seen stays on record); kgrec's SASRec configuration is chosen on validation
from :data:`~recommender.experiments.grids.KGREC_GRID` (plain SASRec, seed 0); the
retriever comparison runs with it, controls included; each peer's configuration is chosen
on validation from its grid (seed 0), then run with every seed; the report compares the
full pipeline with the strongest peer (by validation) and with the ensembling control.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.evaluation.metrics import summarise
from recommender.experiments.augmentation_rows import AUGMENTED
from recommender.experiments.comparison import (
    BLENDED,
    COLD_MAX_TRAIN,
    PLAIN_BLEND,
    RetrieverComparison,
    Row,
    RunResult,
)
from recommender.experiments.fingerprint import experiment_fingerprint, sequence_fingerprint
from recommender.experiments.grids import BUDGET, PEER_GRIDS, grid_lines, kgrec_configs
from recommender.experiments.peers.driver import (
    KNOWLEDGE_PEERS,
    RESUME,
    PeerResult,
    PeerSpec,
    run_peer,
)
from recommender.experiments.peers.knowledge import KnowledgeFiles
from recommender.experiments.runstore import RunStore
from recommender.experiments.session_kinds import SESSION_MODELS
from recommender.pipelines.inputs import PLAIN, TrainingInputs, fit
from recommender.util.files import write_text_atomic
from recommender.util.hashing import fingerprint
from recommender.util.locks import claim
from recommender.util.markdown import table as markdown_table


@dataclass
class Selection:
    """The configurations tried for one model, their validation NDCG@10, the one chosen."""

    model: str
    tried: list[tuple[str, float]]  # (configuration, validation NDCG@10)
    chosen: str


@dataclass
class PeerRuns:
    selection: Selection
    runs: list[PeerResult] = field(default_factory=list)  # the chosen configuration, per seed

    @property
    def valid(self) -> float:
        return float(np.mean([run.best_valid for run in self.runs]))


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
            model, result = fit(PLAIN, None, inputs, config, 0, device, progress)
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


def run_peers(
    python: Path,
    split: pd.DataFrame,
    data: SequenceData,
    dataset: str,
    models: tuple[str, ...],
    seeds: tuple[int, ...],
    config: SASRecConfig,
    device: str,
    cache: Path,
    limit: int = BUDGET,
    log: Callable[[str], None] = print,
    knowledge: KnowledgeFiles | None = None,
) -> dict[str, PeerRuns]:
    """Each peer: every configuration of its grid with seed 0, the best on validation, then
    that configuration with every seed. Each finished run is kept in ``cache`` as a JSON file
    named by what it was trained on (:func:`peer_key`) and reused. Knowledge-aware peers
    (KSR) read ``knowledge`` and are left out, with a note, where it is None.

    Processes sharing ``cache`` share the work: each run is claimed by a lock file while it
    trains, a process skips runs another holds and comes back for their results once it
    has nothing else to do, so two processes on two cores finish a grid in about half the
    time of one."""
    sequences = sequence_fingerprint(dataset, data)  # once: it hashes all sequences

    def path_of(spec: PeerSpec, seed: int) -> Path:
        digest = None if knowledge is None else knowledge.digest
        return cache / f"{peer_key(spec, seed, config, device, sequences, digest)}.json"

    def run(spec: PeerSpec, seed: int, wait: bool) -> PeerResult | None:
        path = path_of(spec, seed)
        if path.exists():
            return PeerResult.from_json(json.loads(path.read_text()))
        with claim(path.with_suffix(".lock"), wait) as held:
            if not held:
                log(f"{spec.name} seed {seed}: trained by another process; coming back to it")
                return None
            if path.exists():  # finished by another process while this one waited
                return PeerResult.from_json(json.loads(path.read_text()))
            # A stable work folder: a run stopped part-way continues from its last epoch.
            work = path.with_suffix(".work")
            carried = " from its kept state" if (work / RESUME).exists() else ""
            log(f"{spec.name} seed {seed}: training{carried} ({work})")
            result = run_peer(
                python, split, data, spec, seed, work, config.epochs, config.patience,
                config.max_len, device, knowledge,
            )  # fmt: skip
            write_text_atomic(path, json.dumps(result.to_json()))
            shutil.rmtree(work, ignore_errors=True)
            return result

    def run_all(jobs: list[tuple[PeerSpec, int]]) -> list[PeerResult]:
        first = [run(spec, seed, wait=False) for spec, seed in jobs]
        return [
            done if done is not None else _waited(run(spec, seed, wait=True))
            for done, (spec, seed) in zip(first, jobs, strict=True)
        ]

    found: dict[str, PeerRuns] = {}
    for model in models:
        if model not in PEER_GRIDS:
            raise ValueError(f"no grid for peer {model!r}; known: {', '.join(PEER_GRIDS)}")
        if model in KNOWLEDGE_PEERS and knowledge is None:
            log(f"{model} left out: this dataset's graph has no knowledge beside the interactions")
            continue
        tried = run_all([(PeerSpec(model, settings), 0) for settings in PEER_GRIDS[model][:limit]])
        for result in tried:
            log(f"{result.spec.name}: valid NDCG@10 {result.best_valid:.4f}")
        best = max(tried, key=lambda r: r.best_valid)
        selection = Selection(model, [(r.spec.name, r.best_valid) for r in tried], best.spec.name)
        later = run_all([(best.spec, seed) for seed in seeds if seed != 0])
        found[model] = PeerRuns(selection, [best, *later] if 0 in seeds else later)
    return found


def peer_key(
    spec: PeerSpec,
    seed: int,
    config: SASRecConfig,
    device: str,
    sequences: str,
    knowledge: str | None = None,
) -> str:
    """The name of one peer run: its model and settings, seed, training limits, device
    kind and the sequences it learns from (:func:`sequence_fingerprint`); a knowledge-aware
    peer's also the digest of the knowledge files it reads."""
    key: dict[str, object] = {
        "spec": [spec.model, spec.settings],
        "seed": seed,
        "epochs": config.epochs,
        "patience": config.patience,
        "max_len": config.max_len,
        "device": device.split(":")[0],
        "sequences": sequences,
    }
    if spec.model in KNOWLEDGE_PEERS and knowledge is not None:
        key["knowledge"] = knowledge
    return fingerprint(key)


def _waited(result: PeerResult | None) -> PeerResult:
    if result is None:  # a blocking claim is always held
        raise RuntimeError("a peer run was neither kept nor trained")
    return result


def add_peers(comparison: RetrieverComparison, peers: dict[str, PeerRuns]) -> Row | None:
    """The peers' runs as rows of ``comparison`` (their test ranks are of the same users, in
    the same order); returns the strongest peer's row (best mean validation NDCG@10), or
    None without peers."""
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
    if not peers:
        return None
    return peer_row(max(peers, key=lambda model: peers[model].valid))


def primary_pairs(strongest_peer: Row | None) -> list[tuple[Row, Row]]:
    """The primary comparison: the full pipeline against the strongest tuned peer, then
    against the ensembling control."""
    pairs = [(BLENDED, PLAIN_BLEND)]
    return [(BLENDED, strongest_peer), *pairs] if strongest_peer is not None else pairs


def plan_text(
    dataset: str,
    seeds: tuple[int, ...],
    peers: tuple[str, ...],
    limit: int,
    *,
    anonymous: bool = True,
    unseen: bool = False,
    session_models: tuple[str, ...] = (),
    augment: tuple[str, ...] = (),
) -> str:
    """The analysis plan, fixed before any model is trained: the rows and scenarios the
    command's options ask for."""
    return "\n".join(
        [
            f"# Analysis plan: comparison on {dataset}",
            "",
            "Written before any model of this comparison was trained; not rewritten by later "
            "runs. Anything decided after test figures were seen is added below under "
            "*Post hoc*.",
            "",
            "- **Rows**: kgrec's retriever variants (None/Random, None/Description, "
            "Random/Description, LLM/Description where LLM personas exist, KG+LLM/Description), "
            "the reranking and the blend of the reranker with the KG+LLM retriever (the full "
            "pipeline); controls: the KG+LLM retriever with shuffled personas, the blend of "
            "two plain SASRecs of different seeds, the blend with the random-user-vector "
            f"retriever; peers through RecBole: {', '.join(peers) or 'none'}. Where no item "
            "has text, every Description item representation is replaced by learned item "
            "embeddings (Random), for kgrec's rows and controls alike.",
            "- **Evaluator**: one for every model: full ranking over the catalogue, the user's "
            "training items (and for test the validation item) excluded, ties counted against "
            "the target (`recommender/evaluation/evaluator.py`).",
            f"- **Tuning**: at most {limit} configurations per model, seed 0, chosen on "
            "validation NDCG@10 only; then seeds "
            + ", ".join(map(str, seeds))
            + " of the chosen configuration.",
            "- **Metrics**: HR, NDCG, MRR at 10 and 100 on test; cold users (at most "
            f"{COLD_MAX_TRAIN} training interactions) apart.",
            "- **Primary comparison**: the full pipeline (blend) against the strongest tuned "
            "peer (by validation NDCG@10) and against the two-plain-SASRec blend, on NDCG@10 "
            "and HR@100: difference with a 95% bootstrap interval over users and seeds, "
            "Wilcoxon signed-rank on per-user values averaged over seeds, Holm-adjusted over "
            "the comparisons of each metric, and p per seed. Target: at least +5% on both.",
            *(
                [
                    "- **Scenario: anonymous sessions** (secondary, a Holm family of its own): "
                    "the same models, each test user's last 5 items before the test item as a "
                    "session without their id; rows: plain SASRec, the blend with no persona, "
                    "with the persona of the 20 users sharing most items, with the KG persona "
                    "by the trained HDGI encoder (where its memory is kept), and the "
                    "two-plain-SASRec blend; blend weights as chosen on validation for the "
                    "standard rows."
                ]
                if anonymous
                else []
            ),
            *(
                [
                    "- **Scenario: unseen users** (secondary, a Holm family of its own): a fixed "
                    "10% of users removed from HDGI's graph and every SASRec's data, everything "
                    "trained again without them, then each scored on their last item as their "
                    "earlier items arrive, their KG persona from the trained encoder; also by "
                    "the length of the history read."
                ]
                if unseen
                else []
            ),
            *(
                [
                    "- **Session-model rows** (secondary, no target): "
                    + "; ".join(SESSION_MODELS[kind] for kind in session_models)
                    + ". They take the settings chosen for kgrec's SASRec (not tuned on their "
                    "own)."
                ]
                if session_models
                else []
            ),
            *(
                [
                    "- **Augmentation rows** (secondary, no target): "
                    + "; ".join(AUGMENTED[kind] for kind in augment)
                    + ", with the augmentation's defaults (not tuned)."
                ]
                if augment
                else []
            ),
            "- **Popularity bias** (descriptive, no test): tail HR/NDCG@10, coverage@10 and "
            "ARP@10 for every row with lists of its own.",
            "- **Grids**:",
            *[f"  - {line}" for line in grid_lines(limit)],
            "",
            "## Post hoc",
            "",
            "None.",
            "",
        ]
    )


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
