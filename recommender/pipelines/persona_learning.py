"""Personas end to end: export the KG, train HDGI, publish the personas on User nodes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import learners.hdgi
from kgstore.export import ExportError, GraphExport, export_graph
from kgstore.graph import Graph
from kgstore.personas import personas_current, write_personas
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.train import TrainResult, train_hdgi
from recommender.config import HDGIConfig
from recommender.util.hashing import code_digest


@dataclass
class PersonaReport:
    version: str
    users: int
    result: TrainResult


def learn_personas(
    graph: Graph,
    home: Path,
    config: HDGIConfig,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    if_stale: bool = False,
) -> PersonaReport | None:
    """Train HDGI on the dataset's graph (training interactions only) and publish personas
    for every user with at least one training interaction. With ``if_stale``, return None
    instead when personas of the same model were already learned from this graph."""
    export = export_graph(graph, home / "cache" / "export", progress)
    model = model_name(config, seed)
    if if_stale and personas_current(graph, export.version, model):
        return None
    interacted = [key for key in export.edges if key[0] == "User" and key[2] == "Item"]
    active = np.unique(np.concatenate([export.edges[key][0] for key in interacted]))
    if len(active) == 0:
        raise ExportError(f"no user of {graph.dataset!r} has a training interaction")
    result = train_on_export(
        export,
        config,
        seed,
        device,
        progress,
        checkpoint=home / "models" / graph.dataset / f"{model}.pt",
    )
    users = export.ids["User"][active].tolist()
    # Centred on the mean user: HDGI embeddings share a large common direction, and cosine
    # similarity (the persona index) should compare how users differ from the average user.
    personas = result.personas[active] - result.personas[active].mean(axis=0, keepdims=True)
    version = write_personas(
        graph, users, personas, model=model, progress=progress, graph_version=export.version
    )
    return PersonaReport(version, len(users), result)


def model_name(config: HDGIConfig, seed: int) -> str:
    """The persona model's name on the User nodes: what changes the personas changes it
    (the settings, and a digest of HDGI's code), so ``--if-stale`` retrains after a change of
    settings or an upgrade that changes the model."""
    return (
        f"hdgi-{config.hidden_channels}d-lr{config.lr:g}-taste{config.taste_weight:g}"
        f"-profile{config.profile_weight:g}-epochs{config.epochs}-patience{config.patience}"
        f"-seed{seed}-code{code_digest(Path(learners.hdgi.__file__).parent)[:8]}"
    )


def train_on_export(
    export: GraphExport,
    config: HDGIConfig,
    seed: int,
    device: str | None = None,
    progress: bool = True,
    checkpoint: Path | None = None,
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
    )
