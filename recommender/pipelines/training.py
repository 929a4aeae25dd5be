"""Train the product's two models on a dataset in the graph and save them as a bundle: the
KG+LLM retriever (HDGI persona, text item vectors) and the plain SASRec reranker."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from kgstore.export import export_graph
from kgstore.graph import Graph
from kgstore.personas import persona_model
from kgstore.splits import recorded_split_hash
from learners.epochs import TrainResult
from learners.sasrec.model import Fusion, SASRec
from recommender.config import CANDIDATES, SASRecConfig, stride_entry
from recommender.evaluation.metrics import ndcg, summarise
from recommender.evaluation.ranking import choose_weight, full_ranks, reranked_ranks
from recommender.evaluation.sessions import (
    SESSION_LENGTH,
    SessionPersonas,
    item_users,
    neighbour_personas,
    no_personas,
    session_encoder,
    session_ranks,
)
from recommender.pipelines.inputs import (
    FUSIONS,
    PERSONA_RETRIEVER,
    PLAIN,
    RetrieverVariant,
    TrainingInputs,
    UserVector,
    fit,
    for_catalogue,
    load_inputs,
    trained_items,
)
from recommender.pipelines.persona_learning import load_memory
from recommender.serving.bundle import (
    Bundle,
    BundleInfo,
    bundle_version,
    load_bundle,
    model_arguments,
    save_bundle,
)


def train_recommender(
    graph: Graph,
    home: Path,
    models_dir: Path,
    config: SASRecConfig,
    fusion: Fusion | None = None,
    seed: int = 0,
    device: str | None = None,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    grid: tuple[dict[str, float | int], ...] = (),
    user_dropouts: tuple[float, ...] = (),
    stride: bool = True,
) -> tuple[Path, Bundle, bool]:
    """The bundle for the graph as it is now: loaded when one with the same inputs exists
    (unless ``force``), else trained, evaluated on the test targets and saved. Returns its
    path, the bundle and whether it was trained.

    ``fusion=None`` trains the retriever with both fusions and keeps the better on
    validation NDCG@10. With a ``grid`` (changes to ``config``, such as
    :data:`~recommender.config.TRAIN_GRID`, and a shorter training-window stride when some
    user's sequence is longer than a window: :func:`~recommender.config.stride_entry`), the
    reranker is trained with each and the settings with the best validation NDCG@10 are used
    for both models (``stride=False`` leaves the stride entry out); what was tried is
    recorded in the bundle. With ``user_dropouts``, the retriever of the chosen fusion is
    also trained with each of those user dropouts and the best on validation is kept.
    """
    dataset = graph.dataset
    export = export_graph(graph, home / "cache" / "export", progress=progress)
    product = for_catalogue((PERSONA_RETRIEVER,), export.has_item_text)[0]
    inputs = load_inputs(graph, home, export, (PLAIN, product))
    if grid and stride:
        longest = max((len(seq) for seq in inputs.data.train), default=0)
        entry = stride_entry(longest, config.max_len)
        grid = grid if entry is None else (*grid, entry)
    fingerprint = {
        "split": recorded_split_hash(graph),
        "graph": export.version,
        "personas": inputs.persona_version,
        "settings": config.model_dump(),
        "grid": [dict(sorted(change.items())) for change in grid],
        "user_dropouts": list(user_dropouts),
        "persona_model": persona_model(graph),
        "fusion": fusion,
        "seed": seed,
    }
    version = bundle_version(fingerprint)
    path = models_dir / dataset / version
    if (path / "bundle.json").exists() and not force:
        log(f"recommender {dataset}/{version} is up to date ({path})")
        return path, load_bundle(path), False
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    started = time.perf_counter()
    best: tuple[float, SASRec, Fusion] | None = None
    validation: dict[str, float] = {}
    epochs: dict[str, int] = {}
    tuned: list[dict[str, object]] = []
    reranker: SASRec | None = None
    reranker_result: TrainResult | None = None
    if grid:
        config, reranker, reranker_result, tuned = choose_settings(
            inputs, config, grid, seed, device, progress, log
        )
    for choice in FUSIONS if fusion is None else (fusion,):
        model, result = fit(product, choice, inputs, config, seed, device, progress)
        validation[f"retriever ({choice})"] = result.best_valid
        epochs[f"retriever ({choice})"] = result.best_epoch
        log(f"retriever, fusion {choice}: valid NDCG@10 {result.best_valid:.4f}")
        if best is None or result.best_valid > best[0]:
            best = (result.best_valid, model, choice)
    assert best is not None
    _, retriever, chosen = best
    if user_dropouts:
        config, retriever, tried = choose_user_dropout(
            inputs,
            product,
            chosen,
            config,
            best[0],
            retriever,
            user_dropouts,
            seed,
            device,
            progress,
            log,
        )
        tuned += tried
    if reranker is None or reranker_result is None:
        reranker, reranker_result = fit(PLAIN, None, inputs, config, seed, device, progress)
    validation["reranker"] = reranker_result.best_valid
    epochs["reranker"] = reranker_result.best_epoch
    log(f"reranker: valid NDCG@10 {reranker_result.best_valid:.4f}")
    warm = warm_items(inputs)
    weight, blended = choose_weight(
        retriever, reranker, inputs.data, candidates=CANDIDATES, fixed_items=~warm
    )
    validation["retriever + reranker"] = blended
    log(f"retriever weight in the final order: {weight:g} (valid NDCG@10 {blended:.4f})")
    memory = load_memory(home, dataset, inputs.persona_version)
    session_persona, scores = choose_session_persona(
        retriever, reranker, inputs, memory, weight, warm
    )
    validation |= {f"anonymous session ({way})": score for way, score in scores.items()}
    log(
        f"anonymous sessions: persona by {session_persona} ("
        + ", ".join(f"{way} {score:.4f}" for way, score in scores.items())
        + f", valid NDCG@10 of the last {SESSION_LENGTH} items without the user)"
    )
    bundle = Bundle(
        BundleInfo(
            dataset=dataset,
            version=version,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            split_hash=str(fingerprint["split"]),
            graph_version=export.version,
            persona_version=inputs.persona_version or "",
            seed=seed,
            settings=config.model_dump(),
            retriever=model_arguments(retriever),
            reranker=model_arguments(reranker),
            evaluation=evaluate_bundle(retriever, reranker, inputs, warm, weight),
            validation=validation,
            training={
                "fusion": chosen,
                "best_epochs": epochs,
                "device": device,
                "seconds": round(time.perf_counter() - started, 1),
                "tuning": tuned,
                "persona_model": fingerprint["persona_model"],
            },
            retriever_weight=weight,
            session_persona=session_persona,
        ),
        inputs.data.items,
        inputs.data.users,
        inputs.data.train,
        warm,
        retriever.cpu().eval(),
        reranker.cpu().eval(),
        memory,
    )
    return save_bundle(bundle, models_dir), bundle, True


def choose_session_persona(
    retriever: SASRec,
    reranker: SASRec,
    inputs: TrainingInputs,
    memory: dict[str, np.ndarray] | None,
    weight: float,
    warm: np.ndarray,
) -> tuple[str, dict[str, float]]:
    """How anonymous sessions get their persona when served: the way with the better
    validation NDCG@10 on each user's last items without their id (a tie keeps
    ``neighbours``, the way without the encoder), and each way's score, ``none`` included
    for the record (:mod:`recommender.evaluation.sessions`)."""
    personas = inputs.user_features.get(UserVector.PERSONA)
    if personas is None or not retriever.uses_users:
        return "neighbours", {}
    data = inputs.data
    ways: dict[str, SessionPersonas] = {
        "neighbours": neighbour_personas(personas, item_users(data.train, data.n_items)),
        "none": no_personas(personas.shape[1]),
    }
    if memory is not None:
        ways["encoder"] = session_encoder(memory, data.items)
    scores = {
        way: ndcg(
            session_ranks(retriever, reranker, data, make, weight=weight, fixed_items=~warm),
            10,
        )
        for way, make in ways.items()
    }
    chosen = max(
        (way for way in ways if way != "none"), key=lambda way: (scores[way], way == "neighbours")
    )
    return chosen, scores


def choose_settings(
    inputs: TrainingInputs,
    base: SASRecConfig,
    grid: tuple[dict[str, float | int], ...],
    seed: int,
    device: str,
    progress: bool,
    log: Callable[[str], None],
) -> tuple[SASRecConfig, SASRec, TrainResult, list[dict[str, object]]]:
    """The settings of ``grid`` whose plain SASRec has the best validation NDCG@10 (a tie
    keeps the earlier, nearer the defaults), that model and its result, and every setting
    tried with its validation NDCG@10."""
    best: tuple[float, SASRecConfig, SASRec, TrainResult] | None = None
    tried: list[dict[str, object]] = []
    for change in grid:
        config = base.model_copy(update=change)
        model, result = fit(PLAIN, None, inputs, config, seed, device, progress)
        tried.append(
            {
                "model": "reranker",
                "changes": dict(change),
                "valid_ndcg10": round(result.best_valid, 5),
                "seconds_per_epoch": round(result.seconds_per_epoch, 2),
            }
        )
        log(
            f"settings {dict(change) or 'defaults'}: valid NDCG@10 {result.best_valid:.4f} "
            f"({result.seconds_per_epoch:.1f} s/epoch)"
        )
        if best is None or result.best_valid > best[0]:
            best = (result.best_valid, config, model, result)
    assert best is not None
    _, config, model, result = best
    chosen = {k: v for k, v in config.model_dump().items() if v != base.model_dump()[k]}
    log(f"chosen on validation: {chosen or 'the defaults'}")
    return config, model, result, tried


def choose_user_dropout(
    inputs: TrainingInputs,
    variant: RetrieverVariant,
    fusion: Fusion,
    config: SASRecConfig,
    score: float,
    model: SASRec,
    values: tuple[float, ...],
    seed: int,
    device: str,
    progress: bool,
    log: Callable[[str], None],
) -> tuple[SASRecConfig, SASRec, list[dict[str, object]]]:
    """The retriever with the user dropout of ``values`` that has the best validation
    NDCG@10 (``model``, trained with ``config``, scored ``score``; a tie keeps it), its
    settings, and each value tried."""
    tried: list[dict[str, object]] = [
        {
            "model": f"retriever ({fusion})",
            "changes": {"user_dropout": config.user_dropout},
            "valid_ndcg10": round(score, 5),
        }
    ]
    for value in values:
        if value == config.user_dropout:
            continue
        candidate = config.model_copy(update={"user_dropout": value})
        trained, result = fit(variant, fusion, inputs, candidate, seed, device, progress)
        tried.append(
            {
                "model": f"retriever ({fusion})",
                "changes": {"user_dropout": value},
                "valid_ndcg10": round(result.best_valid, 5),
            }
        )
        log(f"retriever, user dropout {value:g}: valid NDCG@10 {result.best_valid:.4f}")
        if result.best_valid > score:
            score, config, model = result.best_valid, candidate, trained
    log(f"user dropout chosen on validation: {config.user_dropout:g}")
    return config, model, tried


def warm_items(inputs: TrainingInputs) -> np.ndarray:
    """True for every item index with a training interaction (padding is not warm)."""
    return trained_items(inputs.data)


def evaluate_bundle(
    retriever: SASRec,
    reranker: SASRec,
    inputs: TrainingInputs,
    warm: np.ndarray,
    weight: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Test metrics (full ranking, seen items excluded) of each model and of the pipeline,
    where items that are not ``warm`` keep the retriever's slot and the retriever has
    ``weight`` in the final order, as when serving."""
    data = inputs.data
    users = data.evaluable("test")
    return {
        "retriever (KG+LLM)": summarise(full_ranks(retriever, data, "test", users)),
        "reranker alone (plain SASRec)": summarise(full_ranks(reranker, data, "test", users)),
        "retriever + reranker": summarise(
            reranked_ranks(
                retriever,
                reranker,
                data,
                "test",
                users,
                candidates=CANDIDATES,
                fixed_items=~warm,
                weight=weight,
            )
        ),
    }
