"""Scenario: users the models have never seen.

A fixed share of users (:data:`UNSEEN_SHARE`, drawn with :data:`UNSEEN_SEED`) is held out
entirely: their interactions are removed from the graph export HDGI trains on and from the
sequences every SASRec trains on, and no model keeps a parameter for them. At evaluation
their earlier interactions (training and validation items) arrive as they would in
production, and their last (test) item is the target, ranked by the one evaluator's rule.

Rows: the plain SASRec on their history; the persona retriever with the reranker (blend
weight chosen on the held-in users' validation) and no persona, the persona of the 20
held-in users sharing most of their items, or their KG persona from the trained HDGI
encoder on their items (inductive, :mod:`learners.hdgi.inductive`); and the blend of two
plain SASRecs (the ensembling control); the strongest tuned peer, trained again without the
held-out users (:func:`~recommender.experiments.peers.grid.run_unseen_peer`, ranking
:func:`unseen_stages`). A learned user vector cannot exist for these users. HDGI's personas
and every model are kept, so a stopped run continues.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kgstore.export import GraphExport
from learners.hdgi.inductive import PersonaMemory, memory_rows
from learners.sasrec.data import SequenceData
from learners.sasrec.model import Fusion, SASRec
from recommender.config import CANDIDATES, HDGIConfig, SASRecConfig
from recommender.evaluation.metrics import summarise
from recommender.evaluation.ranking import choose_weight
from recommender.evaluation.sessions import (
    SessionPersonas,
    encoder_personas,
    item_users,
    neighbour_personas,
    no_personas,
    session_ranks,
)
from recommender.experiments.fingerprint import experiment_fingerprint
from recommender.experiments.runs import CONTROL_SEED_OFFSET, Row, RunResult
from recommender.experiments.runstore import RunStore
from recommender.experiments.scenarios import SWEEP_LENGTHS, UNSEEN_PREFIX
from recommender.experiments.seedrecords import SeedRecord, SeedRecords, SeedSweep, add_sweep
from recommender.experiments.standard_rows import best_fusion
from recommender.pipelines.inputs import (
    PERSONA_RETRIEVER,
    PLAIN,
    TrainingInputs,
    UserVector,
    catalogue_variant,
)
from recommender.pipelines.persona_learning import active_users, centred, train_on_export
from recommender.util.hashing import array_digest

UNSEEN_SHARE = 0.1
UNSEEN_SEED = 20_261_206
LABELS = {
    "plain": "Unseen users: plain SASRec on their history",
    "none": "Unseen users: blend, no persona",
    "neighbours": "Unseen users: blend, persona of the 20 users sharing most items",
    "encoder": "Unseen users: blend, KG persona by the trained HDGI encoder (inductive)",
    "control": "Unseen users: control, blend of two plain SASRecs",
}


def held_out_users(
    data: SequenceData, share: float = UNSEEN_SHARE, seed: int = UNSEEN_SEED
) -> np.ndarray:
    """Rows of the held-out users: ``share`` of the users with a test target and at least
    one earlier interaction, drawn with ``seed`` (sorted)."""
    candidates = data.evaluable("test")
    count = max(1, round(share * len(candidates)))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))


def without_users(export: GraphExport, users: np.ndarray) -> GraphExport:
    """The export without the nodes of ``users`` (ids) and every edge touching them."""
    ids = export.ids["User"]
    keep = ~np.isin(ids.astype(str), np.asarray(users).astype(str))
    new_row = np.full(len(ids), -1, np.int64)
    new_row[keep] = np.arange(int(keep.sum()))
    edges = {}
    for key, index in export.edges.items():
        index = index.copy()
        mask = np.ones(index.shape[1], bool)
        for side, label in ((0, key[0]), (1, key[2])):
            if label == "User":
                mask &= keep[index[side]]
        index = index[:, mask]
        for side, label in ((0, key[0]), (1, key[2])):
            if label == "User":
                index[side] = new_row[index[side]]
        edges[key] = index
    return dataclasses.replace(
        export,
        version=f"{export.version}-without-{array_digest(np.flatnonzero(~keep), length=8)}",
        ids={**export.ids, "User": ids[keep]},
        features={**export.features, "User": export.features["User"][keep]},
        has_feature={**export.has_feature, "User": export.has_feature["User"][keep]},
        edges=edges,
    )


def training_data(data: SequenceData, held: np.ndarray) -> SequenceData:
    """``data`` with the held-out users' sequences and targets emptied (their rows stay, so
    user-aligned arrays keep their shape, but they train and validate nothing)."""
    train = list(data.train)
    valid, test = data.valid.copy(), data.test.copy()
    for row in held:
        train[row] = np.zeros(0, np.int64)
        valid[row] = test[row] = 0
    return dataclasses.replace(data, train=train, valid=valid, test=test)


def arrival_data(data: SequenceData, held: np.ndarray) -> SequenceData:
    """The held-out users as they arrive: their training and validation items are the
    history, their test item the target (rows are ``held``'s order)."""
    history = [
        np.append(data.train[u], data.valid[u]) if data.valid[u] else data.train[u] for u in held
    ]
    return SequenceData(
        data.items,
        data.users[held],
        history,
        np.zeros(len(held), np.int64),
        data.test[held].copy(),
    )


def unseen_stages(data: SequenceData, held: np.ndarray) -> dict[str, list[dict[str, Any]]]:
    """The scenario as a peer run's scored stages (trained without ``held``): per history
    length of :data:`~recommender.experiments.scenarios.SWEEP_LENGTHS`, every held-out user,
    in ``held``'s order, with their last ``length`` arriving items (all for None) as the
    session and all of them excluded from the ranking."""
    arriving = arrival_data(data, held)
    return {
        unseen_stage(length): [
            {
                "history": history.tolist(),
                "session": (history if length is None else history[-length:]).tolist(),
                "target": int(target),
            }
            for history, target in zip(arriving.train, arriving.test, strict=True)
        ]
        for length in SWEEP_LENGTHS
    }


def unseen_stage(length: int | None) -> str:
    """The name of a peer's scored stage for held-out users' last ``length`` items."""
    return f"{UNSEEN_PREFIX}{length or 'all'}"


def unseen_personas(
    export: GraphExport,
    data: SequenceData,
    held: np.ndarray,
    config: HDGIConfig,
    store: Path,
    progress: bool,
) -> tuple[np.ndarray, PersonaMemory, np.ndarray]:
    """HDGI trained without the held-out users (kept under ``store``): personas aligned with
    ``data.users`` (held-out rows zero), the memory, and the training users' mean persona."""
    reduced = without_users(export, data.users[held])
    path = store / f"hdgi-{reduced.version}-{config.epochs}-{config.patience}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as kept:
            arrays = dict(kept)
        return arrays["personas"], PersonaMemory.from_arrays(arrays), arrays["mean"]
    result = train_on_export(reduced, config, 0, progress=progress)
    assert result.memory is not None
    rows = np.asarray([str(u) for u in reduced.ids["User"]])
    active = active_users(reduced)
    mean = result.personas[active].mean(axis=0)
    personas = np.zeros((len(data.users), result.personas.shape[1]), np.float32)
    published = centred(result.personas[active])
    position = {str(user): u for u, user in enumerate(data.users)}
    for vector, k in zip(published, active, strict=True):
        if rows[k] in position:
            personas[position[rows[k]]] = vector
    store.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    arrays = {"personas": personas, "mean": mean.astype(np.float32)}
    np.savez(partial, allow_pickle=False, **(arrays | result.memory.to_arrays()))
    partial.replace(path)
    return personas, result.memory, mean


def run_unseen(
    inputs: TrainingInputs,
    export: GraphExport,
    config: SASRecConfig,
    hdgi: HDGIConfig,
    seeds: tuple[int, ...],
    device: str,
    store_root: Path,
    progress: bool,
    log: Callable[[str], None] = print,
    records: SeedRecords | None = None,
    record_as: tuple[str, str] = ("", ""),
) -> tuple[list[RunResult], np.ndarray, dict[str, dict[str, list[float]]]]:
    """The scenario's runs for every seed (each held-out user's whole history arriving),
    the held-out users' rows in ``inputs.data``, and test NDCG@10 by history length (the
    user's last 1, 2, 3, 5, 10 items or all: cold users by truncation) per row and seed.
    With ``records``, a seed found there is read instead of run (HDGI is not trained again
    when every seed is found), and each seed run is recorded there."""
    data = inputs.data
    held = held_out_users(data)
    log(f"unseen users: {len(held):,} of {len(data.users):,} held out of all training")
    kept = {seed: records.load(seed) if records is not None else None for seed in seeds}
    scenario = None
    if any(record is None for record in kept.values()):
        scenario = _prepare(inputs, export, held, hdgi, config, device, store_root, progress)
    chosen: dict[str, Fusion] = {}
    runs: list[RunResult] = []
    sweep: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        record = kept[seed]
        if record is not None:
            runs.extend(record.runs)
            chosen.update(record.fusion)
            add_sweep(sweep, record.sweep)
            log(f"seed {seed} unseen users: every row read from its record")
            continue
        assert scenario is not None
        seed_runs, seed_sweep = _unseen_seed(scenario, config, seed, device, chosen, log, progress)
        runs.extend(seed_runs)
        add_sweep(sweep, seed_sweep)
        if records is not None:
            machine, vectors = record_as
            records.save(SeedRecord(seed, seed_runs, dict(chosen), seed_sweep, machine, vectors))
    return runs, held, sweep


@dataclasses.dataclass
class _Scenario:
    """What every seed of the scenario reads: the reduced training inputs, the held-out
    users' arriving histories, the ways of making their persona, the model store."""

    reduced: TrainingInputs
    arriving: SequenceData
    ways: dict[str, SessionPersonas]
    store: RunStore
    longest: int


def _prepare(
    inputs: TrainingInputs,
    export: GraphExport,
    held: np.ndarray,
    hdgi: HDGIConfig,
    config: SASRecConfig,
    device: str,
    store_root: Path,
    progress: bool,
) -> _Scenario:
    data = inputs.data
    personas, memory, mean = unseen_personas(
        export, data, held, hdgi, store_root / "unseen", progress
    )
    reduced = dataclasses.replace(
        inputs,
        data=training_data(data, held),
        user_features={UserVector.PERSONA: personas},
    )
    arriving = arrival_data(data, held)
    item_rows = np.concatenate([[-1], memory_rows(export.ids["Item"], list(data.items))])
    kept_personas = personas.copy()
    kept_personas[held] = 0.0
    neighbours_of = neighbour_personas(
        kept_personas, item_users(training_data(data, held).train, data.n_items)
    )
    ways: dict[str, SessionPersonas] = {
        "none": no_personas(personas.shape[1]),
        "neighbours": lambda sessions, users: neighbours_of(sessions, np.full(len(users), -1)),
        "encoder": encoder_personas(memory, item_rows, mean),
    }
    store = RunStore(store_root / "unseen" / experiment_fingerprint(reduced, config, device))
    return _Scenario(reduced, arriving, ways, store, max(len(h) for h in arriving.train))


def _unseen_seed(
    scenario: _Scenario,
    config: SASRecConfig,
    seed: int,
    device: str,
    chosen: dict[str, Fusion],
    log: Callable[[str], None],
    progress: bool,
) -> tuple[list[RunResult], SeedSweep]:
    """One seed's rows and its sweep by history length; the retriever's fusion, chosen on
    the first seed, goes into ``chosen``."""
    reduced, arriving, ways, store = (
        scenario.reduced, scenario.arriving, scenario.ways, scenario.store
    )  # fmt: skip
    retriever_variant = catalogue_variant(PERSONA_RETRIEVER, reduced)
    runs: list[RunResult] = []
    sweep: SeedSweep = {}
    plain, _ = best_fusion(reduced, PLAIN, config, seed, device, {}, store, log, progress)
    retriever, run = best_fusion(
        reduced, retriever_variant, config, seed, device, chosen, store, log, progress
    )
    if run.fusion is not None:
        chosen[retriever_variant.key] = run.fusion
    second, _ = best_fusion(
        reduced, PLAIN, config, seed + CONTROL_SEED_OFFSET, device, {}, store, log, progress
    )
    weight, _ = choose_weight(retriever, plain, reduced.data, candidates=CANDIDATES)
    control, _ = choose_weight(second, plain, reduced.data, candidates=CANDIDATES)

    for length in SWEEP_LENGTHS:

        def ranks(
            first: SASRec,
            make: SessionPersonas,
            blend: float,
            reranker: SASRec = plain,
            length: int | None = length,
        ) -> np.ndarray:
            return session_ranks(
                first, reranker, arriving, make, stage="test", weight=blend,
                candidates=CANDIDATES, session_length=length or scenario.longest,
            )  # fmt: skip

        found = {"plain": ranks(plain, ways["none"], 0.0)}
        for way, make in ways.items():
            found[way] = ranks(retriever, make, weight)
        found["control"] = ranks(second, ways["none"], control)
        for key, ranked in found.items():
            sweep.setdefault(key, {})[str(length or "all")] = summarise(ranked)["NDCG@10"]
        if length is not None:
            continue
        for key, ranked in found.items():
            result = RunResult(
                Row(UNSEEN_PREFIX + key, LABELS[key]), seed, None, {}, summarise(ranked),
                None, ranked,
            )  # fmt: skip
            runs.append(result)
            log(f"seed {seed} {LABELS[key]}: test NDCG@10 {result.test['NDCG@10']:.4f}")
    return runs, sweep
