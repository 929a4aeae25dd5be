"""Table 3 of the method: SASRec retrievers with each user and item representation, and the
base SASRec reranking the best retriever's top 100. Every number is a mean over seeds,
every choice (fusion, early stopping) is made on validation."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import neo4j
import numpy as np
import pandas as pd
import torch

import learners.sasrec
from kgstore.export import GraphExport, read_node_vectors
from kgstore.personas import read_personas
from kgstore.splits import load_split, recorded_split_hash
from learners.sasrec.data import SequenceData
from learners.sasrec.model import Fusion, SASRec
from learners.sasrec.train import EpochLog, SASRecTrainResult, train_sasrec
from recommender.code_digest import code_digest
from recommender.evaluate import full_ranks, ranks_by_weight, reranked_ranks
from recommender.metrics import ndcg, summarise
from recommender.runstore import RunStore, restore

UserKind = Literal["None", "Random", "LLM", "KG+LLM"]
ItemKind = Literal["Random", "Description (LLM)"]
FUSIONS: tuple[Fusion, ...] = ("input", "output")
COLD_MAX_TRAIN = 5  # a "cold" user has at most this many training interactions
PERSONA_PROPERTY = {"LLM": "llm_persona", "KG+LLM": "persona"}


@dataclass(frozen=True)
class Row:
    user: UserKind
    item: ItemKind

    @property
    def name(self) -> str:
        return f"{self.user} / {self.item}"


RETRIEVERS = (
    Row("None", "Random"),
    Row("None", "Description (LLM)"),
    Row("Random", "Description (LLM)"),
    Row("LLM", "Description (LLM)"),
    Row("KG+LLM", "Description (LLM)"),
)
BASE = RETRIEVERS[0]  # plain SASRec: the reranker
RERANKED = "Reranking: None / Random over KG+LLM's top 100"
BLENDED = "Blend: reranker and KG+LLM retriever over its top 100"
# Retriever weights tried for the blended row (see recommender.rerank.blend); 0 is the
# reranker alone, 1 the retriever alone. Chosen per seed on validation NDCG@10.
BLEND_WEIGHTS = tuple(w / 10 for w in range(11))


@dataclass(frozen=True)
class SASRecSettings:
    """SASRec's hyperparameters; the defaults are the method's (d=64, L=2, dropout 0.1,
    Adam 1e-3)."""

    hidden: int = 64
    layers: int = 2
    heads: int = 2
    dropout: float = 0.1
    max_len: int = 50
    lr: float = 1e-3
    batch_size: int = 16  # windows of up to max_len targets each
    epochs: int = 200
    patience: int = 10
    negatives: int | None = None
    # Description items: the projected text vector plus a learned per-item offset that starts
    # at zero (see docs/decisions/0006). False keeps the text projection alone.
    item_residual: bool = True
    # In training, the chance of dropping a sequence's whole user vector (see SASRec and
    # docs/decisions/0007).
    user_dropout: float = 0.5


@dataclass
class ExperimentInputs:
    dataset: str
    data: SequenceData
    item_features: np.ndarray  # (n_items + 1, F); row 0 (padding) is zero
    user_features: dict[str, np.ndarray]  # "LLM"/"KG+LLM" -> (users, F), aligned with data
    persona_version: str | None = None  # of the KG+LLM personas read


@dataclass
class RunResult:
    """One row trained with one seed."""

    row: str
    seed: int
    fusion: Fusion | None
    valid: dict[str, float]
    test: dict[str, float]
    cold: dict[str, float] | None
    ranks: np.ndarray  # test ranks of `Table3.users`, in order
    curve: list[EpochLog] = field(default_factory=list)
    seconds_per_epoch: float = 0.0
    best_epoch: int = -1
    weight: float | None = None  # the blended row's retriever weight


@dataclass
class Table3:
    dataset: str
    seeds: tuple[int, ...]
    n_items: int
    users: np.ndarray  # evaluated (test) users
    cold_users: int
    runs: list[RunResult]
    fusion: dict[str, Fusion]  # row -> fusion chosen on validation
    settings: SASRecSettings
    device: str
    seconds: float

    def rows(self) -> list[str]:
        return list(dict.fromkeys(run.row for run in self.runs))

    def by_row(self, row: str) -> list[RunResult]:
        return [run for run in self.runs if run.row == row]


def load_inputs(
    driver: neo4j.Driver,
    database: str,
    dataset: str,
    home: Path,
    export: GraphExport,
    rows: tuple[Row, ...] = RETRIEVERS,
) -> ExperimentInputs:
    """Sequences from the split recorded at ingestion (hash checked), the catalogue and item
    text embeddings from the graph export, and the personas the rows need."""
    split = load_split(home, dataset, recorded_split_hash(driver, database, dataset))
    data = SequenceData.from_split(split, catalogue=export.ids["Item"].tolist())
    if any(row.item != "Random" for row in rows) and not export.has_feature["Item"].any():
        raise ValueError(f"items of {dataset!r} have no text embeddings; run kgrec embed first")
    items = export.features["Item"]  # zero rows where an item has no text
    item_features = np.vstack([np.zeros((1, items.shape[1]), np.float32), items])
    user_features: dict[str, np.ndarray] = {}
    persona_version = None
    for kind in sorted({row.user for row in rows} & set(PERSONA_PROPERTY)):
        missing = ValueError(
            f"users of {dataset!r} have no {kind} personas; run "
            + ("kgrec personas" if kind == "KG+LLM" else "kgrec llm-persona")
        )
        if kind == "KG+LLM":  # versioned: one consistent version, never a mix
            personas = read_personas(driver, database, dataset)
            if personas is None:
                raise missing
            ids, vectors, persona_version = personas.ids, personas.vectors, personas.version
        else:
            ids, vectors, present = read_node_vectors(
                driver, database, dataset, "User", PERSONA_PROPERTY[kind]
            )
            if not present.any():
                raise missing
        found = pd.Index(ids).get_indexer(pd.Index(data.users))
        aligned = np.zeros((len(data.users), vectors.shape[1]), np.float32)
        aligned[found >= 0] = vectors[found[found >= 0]]
        user_features[kind] = aligned
    return ExperimentInputs(dataset, data, item_features, user_features, persona_version)


# Settings added after models were first kept, with the value that behaves as if they did
# not exist: they enter fingerprints only at other values, so models trained before them
# are still found.
_LATER_SETTINGS = {"user_dropout": 0.0}


def fingerprinted(settings: SASRecSettings) -> dict[str, object]:
    """``settings`` as a dict for fingerprints: later settings only when they change
    something."""
    fields = asdict(settings)
    for name, default in _LATER_SETTINGS.items():
        if fields[name] == default:
            del fields[name]
    return fields


# Settings that only rows with a user vector read: they go into those rows' user_tag, not
# into the experiment's fingerprint, so rows without a user vector are kept across them.
_USER_SETTINGS = ("user_dropout",)


def fingerprint(inputs: ExperimentInputs, settings: SASRecSettings, device: str) -> str:
    """Names one experiment's models in a :class:`RunStore`: the same sequences, item
    vectors, settings, device and model-building code (this module and SASRec's, by
    :func:`code_digest`) give the same models (training is deterministic on a device).
    User vectors, and the settings only they read, are told apart per row by
    :func:`user_tag`, so rows and seeds can be added to an experiment later."""
    digest = hashlib.sha256()
    data = inputs.data
    shared = {k: v for k, v in fingerprinted(settings).items() if k not in _USER_SETTINGS}
    for part in (
        inputs.dataset,
        json.dumps(shared, sort_keys=True),
        device.split(":")[0],
        code_digest(Path(__file__), Path(learners.sasrec.__file__).parent),
        "\x1f".join(map(str, data.items)),
        "\x1f".join(map(str, data.users)),
    ):
        digest.update(part.encode())
        digest.update(b"\x1e")
    arrays: list[np.ndarray] = [
        np.array([len(seq) for seq in data.train], np.int64),
        np.concatenate(data.train).astype(np.int64) if data.train else np.zeros(0, np.int64),
        np.asarray(data.valid, np.int64),
        np.asarray(data.test, np.int64),
        np.ascontiguousarray(inputs.item_features, np.float32),
    ]
    for array in arrays:
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def user_tag(inputs: ExperimentInputs, row: Row, settings: SASRecSettings) -> str:
    """The fixed user vectors a row trains with (personas), as a short hash, and the
    user-only settings that are not at their default; empty for rows without a user
    vector."""
    if row.user == "None":
        return ""
    vectors = inputs.user_features.get(row.user)
    tag = ""
    if vectors is not None:
        tag = hashlib.sha256(np.ascontiguousarray(vectors, np.float32).tobytes()).hexdigest()[:12]
    fields = fingerprinted(settings)
    extra = "-".join(
        f"{name.replace('_', '')}{fields[name]:g}" for name in _USER_SETTINGS if name in fields
    )
    return "-".join(part for part in (tag, extra) if part)


def build_model(
    row: Row, fusion: Fusion | None, inputs: ExperimentInputs, settings: SASRecSettings
) -> SASRec:
    item_features = None if row.item == "Random" else torch.from_numpy(inputs.item_features).float()
    user_features = inputs.user_features.get(row.user)
    return SASRec(
        inputs.data.n_items,
        hidden=settings.hidden,
        layers=settings.layers,
        heads=settings.heads,
        dropout=settings.dropout,
        max_len=settings.max_len,
        item_features=item_features,
        n_users=len(inputs.data.users) if row.user == "Random" else 0,
        user_features=None if user_features is None else torch.from_numpy(user_features),
        fusion=fusion or "input",
        item_residual=settings.item_residual and item_features is not None,
        residual_items=torch.from_numpy(trained_items(inputs.data)),
        user_dropout=settings.user_dropout,
    )


def trained_items(data: SequenceData) -> np.ndarray:
    """``(n_items + 1,)`` bool: True for every item with a training interaction (padding is
    not one)."""
    trained = np.zeros(data.n_items + 1, dtype=bool)
    if data.train:
        trained[np.concatenate(data.train)] = True
    trained[0] = False
    return trained


def fit(
    row: Row,
    fusion: Fusion | None,
    inputs: ExperimentInputs,
    settings: SASRecSettings,
    seed: int,
    device: str,
    progress: bool = True,
) -> tuple[SASRec, SASRecTrainResult]:
    """One row trained from ``seed``, stopped early on validation NDCG@10 (full ranking)."""
    data = inputs.data
    valid_users = data.evaluable("valid")
    torch.manual_seed(seed)
    model = build_model(row, fusion, inputs, settings)
    result = train_sasrec(
        model,
        data,
        lambda m: ndcg(full_ranks(m, data, "valid", valid_users), 10),
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        patience=settings.patience,
        negatives=settings.negatives,
        seed=seed,
        device=device,
        progress=progress,
    )
    return model, result


def run_table3(
    inputs: ExperimentInputs,
    settings: SASRecSettings = SASRecSettings(),
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    rows: tuple[Row, ...] = RETRIEVERS,
    device: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_seed: Callable[[Table3], None] | None = None,
    store: RunStore | None = None,
) -> Table3:
    """Train every row for every seed and evaluate on the test targets.

    Rows with a user vector try both fusions on the first seed and keep the one with the
    better validation NDCG@10 for all seeds. The reranked row reorders the KG+LLM
    retriever's top 100 with the base SASRec of the same seed. ``on_seed`` receives the
    table so far after every seed (to save partial results of a long run). With a ``store``,
    every trained model is kept there and a model already in it is loaded, not trained.
    """
    if not seeds:
        raise ValueError("give at least one seed")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    data = inputs.data
    users = data.evaluable("test")
    cold = users[np.array([len(data.train[u]) for u in users]) <= COLD_MAX_TRAIN]
    chosen: dict[str, Fusion] = {}
    runs: list[RunResult] = []
    started = time.perf_counter()
    for seed in seeds:
        models: dict[str, SASRec] = {}
        for row in rows:
            fusions: tuple[Fusion | None, ...] = (None,)
            if row.user != "None":
                fusions = FUSIONS if row.name not in chosen else (chosen[row.name],)
            best: tuple[float, SASRec, RunResult] | None = None
            for fusion in fusions:
                tag = user_tag(inputs, row, settings)
                stored = store.load(row.name, fusion, seed, tag) if store is not None else None
                if stored is not None:
                    model = restore(build_model(row, fusion, inputs, settings), stored.state)
                    model.to(device).eval()
                    result = stored.result
                else:
                    model, result = fit(row, fusion, inputs, settings, seed, device, progress)
                    if store is not None:
                        store.save(row.name, fusion, seed, model, result, tag)
                run = RunResult(
                    row.name,
                    seed,
                    fusion,
                    valid={"NDCG@10": result.best_valid},
                    test={},
                    cold=None,
                    ranks=np.zeros(0, np.int64),
                    curve=result.curve,
                    seconds_per_epoch=result.seconds_per_epoch,
                    best_epoch=result.best_epoch,
                )
                log(
                    f"seed {seed} {row.name}"
                    + (f" (fusion {fusion})" if fusion else "")
                    + f": valid NDCG@10 {result.best_valid:.4f} at epoch {result.best_epoch}, "
                    f"{result.seconds_per_epoch:.2f} s/epoch"
                    + (" (kept from an earlier run)" if stored is not None else "")
                )
                if best is None or result.best_valid > best[0]:
                    best = (result.best_valid, model, run)
            assert best is not None
            _, model, run = best
            if run.fusion is not None:
                chosen[row.name] = run.fusion
            ranks = full_ranks(model, data, "test", users)
            _score(run, ranks, users, cold)
            runs.append(run)
            models[row.name] = model
        retriever = models.get(Row("KG+LLM", "Description (LLM)").name)
        reranker = models.get(BASE.name)
        if retriever is not None and reranker is not None:
            ranks = reranked_ranks(retriever, reranker, data, "test", users, candidates=100)
            run = RunResult(RERANKED, seed, None, valid={}, test={}, cold=None, ranks=ranks)
            _score(run, ranks, users, cold)
            runs.append(run)
            weight, valid = choose_weight(retriever, reranker, data)
            log(f"seed {seed} blend: retriever weight {weight:g}, valid NDCG@10 {valid:.4f}")
            ranks = reranked_ranks(
                retriever, reranker, data, "test", users, candidates=100, weight=weight
            )
            run = RunResult(BLENDED, seed, None, {"NDCG@10": valid}, {}, None, ranks, weight=weight)
            _score(run, ranks, users, cold)
            runs.append(run)
        table = Table3(
            inputs.dataset,
            tuple(seeds[: seeds.index(seed) + 1]),
            data.n_items,
            users,
            len(cold),
            list(runs),
            dict(chosen),
            settings,
            device,
            time.perf_counter() - started,
        )
        if on_seed is not None:
            on_seed(table)
    return table


def choose_weight(
    retriever: SASRec,
    reranker: SASRec,
    data: SequenceData,
    weights: tuple[float, ...] = BLEND_WEIGHTS,
    candidates: int = 100,
    fixed_items: np.ndarray | None = None,
) -> tuple[float, float]:
    """The retriever weight of the blend with the best validation NDCG@10 (ties: the
    smaller weight, nearer the reranker alone), and that NDCG@10."""
    found = ranks_by_weight(
        retriever, reranker, data, "valid", weights, candidates=candidates, fixed_items=fixed_items
    )
    scored = [(summarise(ranks)["NDCG@10"], -w) for w, ranks in found.items()]
    best, negative = max(scored)
    return -negative, best


def _score(run: RunResult, ranks: np.ndarray, users: np.ndarray, cold: np.ndarray) -> None:
    run.ranks = ranks
    run.test = summarise(ranks)
    if len(cold):
        run.cold = summarise(ranks[np.isin(users, cold)])
