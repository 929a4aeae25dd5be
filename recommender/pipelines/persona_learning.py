"""Personas end to end: export the KG, train HDGI, publish the personas on User nodes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from kgstore.export import ExportError, GraphExport, export_graph
from kgstore.graph import Graph
from kgstore.personas import (
    add_personas,
    persona_model,
    personas_current,
    read_persona_version,
    read_personas,
    write_personas,
)
from kgstore.splits import in_time_order, load_split, recorded_split_hash
from kgstore.users import user_items
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.encoder import MetapathEncoder, user_metapaths
from learners.hdgi.inductive import PersonaMemory, memory_rows
from learners.hdgi.train import TrainResult, train_hdgi
from learners.sasrec.data import SequenceData
from recommender.config import HDGI_TUNED, HDGIConfig
from recommender.evaluation.metrics import ndcg, per_user
from recommender.pipelines.persona_choice import (
    ChoiceMargin,
    choice_label,
    choice_margin,
    reproduced_plan,
    validation_ranks,
)
from recommender.pipelines.persona_names import PersonaError as PersonaError
from recommender.pipelines.persona_names import model_name, published_config


@dataclass
class PersonaReport:
    version: str
    users: int
    result: TrainResult
    config: HDGIConfig  # the settings the published personas were trained with
    model: str
    # With a grid: each setting tried, its validation score and where it stopped.
    tuning: list[dict[str, object]] = field(default_factory=list)
    # The semantic attention of the state the published personas come from (with a grid,
    # the chosen length's best epoch, not the longer run's).
    attention: dict[str, float] = field(default_factory=dict)
    # With a choice: how far the chosen candidate is ahead of the next best one that gives
    # other personas (:class:`ChoiceMargin`); None without a choice or such a candidate.
    margin: ChoiceMargin | None = None


def learn_personas(
    graph: Graph,
    home: Path,
    config: HDGIConfig,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    if_stale: bool = False,
    grid: Sequence[dict[str, int]] = (),
    fusions: Sequence[dict[str, bool]] = (),
    reproduce: str | None = None,
) -> PersonaReport | None:
    """Train HDGI on the dataset's graph (training interactions only) and publish personas
    for every user with at least one training interaction. With ``if_stale``, return None
    instead when personas of the same model were already learned from this graph.

    With a ``grid`` of changes to ``config``'s epochs and patience (such as
    :data:`~recommender.config.HDGI_GRID`), and ``fusions``, changes to how the metapaths
    are fused (such as :data:`~recommender.config.HDGI_FUSIONS`), every combination is a
    candidate: one run per fusion with the longest limits gives the personas of each length,
    and the personas whose nearest users best find each user's validation item (NDCG@10,
    :mod:`recommender.evaluation.neighbours`) are published; a tie keeps the earlier
    candidate.

    ``reproduce`` names a model such a choice published (with the same grid, fusions,
    settings, seed and HDGI code): the choice is not made again; the chosen candidate's run
    trains exactly as the choice ran it and its personas are published under that name, so
    that another machine has the personas a comparison's records were made with.

    Raises:
        PersonaError: ``reproduce`` names no candidate of these settings and this code.
    """
    export = export_graph(graph, home / "cache" / "export", progress)
    # Each fusion with every length; one run per fusion, as long as its longest candidate.
    keys = sorted({k for f in fusions for k in f})
    structures = [{k: f.get(k, getattr(config, k)) for k in keys} for f in fusions] or [{}]
    plans = [(s, [config.model_copy(update={**s, **c}) for c in grid or [{}]]) for s in structures]
    tuned = bool(grid or fusions)
    candidates = [c for _, own in plans for c in own] if tuned else []
    family = model_name(config, seed, candidates)
    reproduced = None
    if reproduce is not None:
        plans, reproduced = reproduced_plan(plans, config, family, reproduce)
    if if_stale and personas_current(graph, export.version, family, exactly=reproduce):
        return None
    active = active_users(export)
    if len(active) == 0:
        raise ExportError(f"no user of {graph.dataset!r} has a training interaction")
    run_candidates = [c for _, own in plans for c in own] if tuned else []
    trained: list[TrainResult] = []  # each candidate's run, in the order of ``run_candidates``
    for structure, own in plans:
        run = own[0].model_copy(
            update={"epochs": max(c.epochs for c in own), "patience": max(c.patience for c in own)}
        )
        changed = {k: v for k, v in structure.items() if getattr(config, k) != v}
        name = family + "".join(f"-{k.replace('_', '')}{v}" for k, v in changed.items())
        result = train_on_export(
            export,
            run,
            seed,
            device,
            progress,
            checkpoint=home / "models" / graph.dataset / f"{name}.pt",
            stops=[(c.epochs, c.patience) for c in own] if tuned else (),
        )
        trained += [result] * len(own)
    users = export.ids["User"][active].tolist()
    chosen, result = config, trained[0]
    best_personas, memory = result.personas, result.memory
    tuning: list[dict[str, object]] = []
    margin = None
    if candidates:
        split = load_split(home, graph.dataset, recorded_split_hash(graph))
        data = SequenceData.from_split(in_time_order(split), catalogue=export.ids["Item"].tolist())
        pairs = zip(run_candidates, trained, strict=True)
        stops = [run.stopped[(c.epochs, c.patience)] for c, run in pairs]
        scores, values = [], []
        for candidate, stop in zip(run_candidates, stops, strict=True):
            ranks = validation_ranks(users, centred(stop.personas[active]), data)
            score = ndcg(ranks, 10) if len(ranks) else float("nan")
            values.append(per_user(ranks, "NDCG", 10))
            scores.append(-np.inf if np.isnan(score) else score)
            tuning.append(
                {
                    "changes": {k: getattr(candidate, k) for k in (*HDGI_TUNED, *keys)},
                    "valid_ndcg10": round(score, 5),
                    "epochs_run": stop.epochs_run,
                    "best_epoch": stop.best_epoch,
                }
            )
        # the first of equals, or the candidate the reproduced choice published
        best = int(np.argmax(scores)) if reproduced is None else run_candidates.index(reproduced)
        chosen, result = run_candidates[best], trained[best]
        if reproduced is None:
            margin = choice_margin(scores, values, best, tuning)
        best_personas, memory = stops[best].personas, stops[best].memory
    personas = centred(best_personas[active])
    model = f"{family}:{choice_label(config, chosen)}" if candidates else family
    version = write_personas(
        graph, users, personas, model=model, progress=progress, graph_version=export.version
    )
    if memory is not None:
        mean = best_personas[active].mean(axis=0)
        save_memory(home, graph.dataset, version, memory, export.ids["Item"], mean)
    attention = result.attention
    if memory is not None and len(memory.attention) == len(attention):
        attention = dict(zip(attention, map(float, memory.attention), strict=True))
    return PersonaReport(version, len(users), result, chosen, model, tuning, attention, margin)


def memory_path(home: Path, dataset: str, version: str) -> Path:
    """Where the persona memory of a published version is kept."""
    return home / "models" / dataset / "personas" / f"{version}.npz"


def save_memory(
    home: Path,
    dataset: str,
    version: str,
    memory: PersonaMemory,
    items: np.ndarray,
    mean: np.ndarray,
) -> Path:
    """Keep what personas of users added later need: the memory, its item ids (rows) and
    the training users' mean persona (published personas are centred on it)."""
    path = memory_path(home, dataset, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    arrays = {"item_ids": np.asarray(items, dtype=str), "mean": mean.astype(np.float32)}
    np.savez(partial, allow_pickle=False, **(arrays | memory.to_arrays()))
    partial.replace(path)
    return path


@dataclass
class AddedPersonas:
    version: str
    users: list[str]
    vectors: np.ndarray  # as published: centred like the trained ones
    unknown_items: dict[str, int]  # per user, items the memory has no state for (skipped)


def add_user_personas(graph: Graph, home: Path, users: Sequence[str]) -> AddedPersonas:
    """Personas for ``users`` (typically added after training, :func:`kgstore.users.add_user`)
    from their items in the graph and the trained memory of the current persona version,
    without retraining, written to their nodes in that version. A training user gets back
    exactly their training persona.

    Raises:
        PersonaError: no personas yet, their memory is missing, a user is not in the graph
            or has no item the memory knows.
    """
    current = read_persona_version(graph)
    if current is None:
        raise PersonaError(f"{graph.dataset!r} has no personas yet; run kgrec personas first")
    arrays = load_memory(home, graph.dataset, current)
    if arrays is None:
        raise PersonaError(
            f"no persona memory for version {current} of {graph.dataset!r} at "
            f"{memory_path(home, graph.dataset, current)}; run kgrec personas again, or "
            "kgrec personas --restore-memory for personas trained before memories were kept"
        )
    memory = PersonaMemory.from_arrays(arrays)
    found = user_items(graph, users)
    rows, unknown = [], {}
    for user in users:
        if user not in found:
            raise PersonaError(f"user {user!r} is not in {graph.dataset!r}")
        at = memory_rows(arrays["item_ids"], found[user])
        known = at[at >= 0].tolist()
        unknown[user] = len(found[user]) - len(known)
        if not known:
            raise PersonaError(
                f"user {user!r} has no item the personas were trained with; a persona needs "
                "at least one"
            )
        rows.append(np.array(known, np.int64))
    vectors = memory.encode(rows) - arrays["mean"]
    add_personas(graph, list(users), vectors, current)
    return AddedPersonas(current, list(users), vectors.astype(np.float32), unknown)


def restore_memory(graph: Graph, home: Path, progress: bool = False) -> Path:
    """The persona memory of the current personas, rebuilt from their training checkpoint
    (for personas published before memories were kept), without retraining: the encoder is
    rebuilt from the checkpoint and the graph export the personas were learned from, and
    its personas must be the published ones, or nothing is written.

    Raises:
        PersonaError: no personas, no checkpoint, a changed graph, or a rebuilt encoder whose
            personas differ from the published ones.
    """
    current = read_persona_version(graph)
    model = persona_model(graph)
    if current is None or model is None:
        raise PersonaError(f"{graph.dataset!r} has no personas yet; run kgrec personas")
    family = model.split(":")[0]
    checkpoint = home / "models" / graph.dataset / f"{family}.pt"
    if not checkpoint.exists():
        raise PersonaError(f"no checkpoint of {model} at {checkpoint}; run kgrec personas")
    seed = re.search(r"-seed(\d+)-", family)
    if seed is None or ":" in model:
        # a chosen training length is a shorter run than the checkpoint's: not rebuildable
        raise PersonaError(f"the memory of {model} cannot be rebuilt; run kgrec personas")
    settings = published_config(family)
    export = export_graph(graph, home / "cache" / "export", progress)
    if not personas_current(graph, export.version, family):
        raise PersonaError(f"the graph of {graph.dataset!r} changed since its personas")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state"]
    encoder_state = {k[len("encoder.") :]: v for k, v in state.items() if k.startswith("encoder.")}
    hidden = int(encoder_state["path_out.0.weight"].shape[0])
    inputs = hdgi_inputs(
        to_hetero_data(
            export.features,
            export.has_feature,
            export.edges,
            random_dim=hidden,
            seed=int(seed.group(1)),
        )
    )
    encoder = MetapathEncoder(
        {t: f.shape[1] for t, f in inputs.x.items()},
        hidden,
        user_metapaths(inputs.type_pairs),
        path_norm=settings.path_norm,
        fusion=settings.fusion,
    )
    encoder.load_state_dict(encoder_state)
    encoder.eval()
    with torch.no_grad():
        personas = encoder(inputs.x, inputs.adjacency).numpy()
    active = active_users(export)
    published = read_personas(graph)
    assert published is not None
    rows = pd.Index(export.ids["User"][active]).get_indexer(pd.Index(published.ids))
    rebuilt = centred(personas[active])
    if (rows < 0).any() or not np.allclose(rebuilt[rows], published.vectors, atol=1e-4):
        raise PersonaError(
            f"the encoder rebuilt from {checkpoint} does not give the published personas"
        )
    memory = PersonaMemory.from_encoder(encoder, inputs.x, inputs.adjacency)
    mean = personas[active].mean(axis=0)
    return save_memory(home, graph.dataset, current, memory, export.ids["Item"], mean)


def active_users(export: GraphExport) -> np.ndarray:
    """Rows of the export's users with at least one training interaction (the users HDGI
    publishes personas for)."""
    interacted = [key for key in export.edges if key[0] == "User" and key[2] == "Item"]
    if not interacted:
        return np.zeros(0, np.int64)
    return np.unique(np.concatenate([export.edges[key][0] for key in interacted]))


def load_memory(home: Path, dataset: str, version: str | None) -> dict[str, np.ndarray] | None:
    """The persona memory kept with persona ``version`` as its arrays (None without one)."""
    if version is None:
        return None
    path = memory_path(home, dataset, version)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as stored:
        return dict(stored)


def centred(personas: np.ndarray) -> np.ndarray:
    """Personas less the mean user: HDGI embeddings share a large common direction, and
    cosine similarity (the persona index) should compare how users differ from the average
    user."""
    mean: np.ndarray = personas.mean(axis=0, keepdims=True)
    return np.asarray(personas - mean, dtype=np.float32)


def train_on_export(
    export: GraphExport,
    config: HDGIConfig,
    seed: int,
    device: str | None = None,
    progress: bool = True,
    checkpoint: Path | None = None,
    stops: Sequence[tuple[int, int]] = (),
    metapaths: Sequence[tuple[str, ...]] | None = None,
) -> TrainResult:
    """HDGI on an exported graph; users and text-less nodes start random, fixed by ``seed``."""
    data = to_hetero_data(
        export.features,
        export.has_feature,
        export.edges,
        random_dim=config.hidden_channels,
        seed=seed,
    )
    return train_hdgi(
        hdgi_inputs(data),
        **config.model_dump(),
        seed=seed,
        device=device,
        progress=progress,
        checkpoint=checkpoint,
        stops=stops,
        metapaths=metapaths,
    )
