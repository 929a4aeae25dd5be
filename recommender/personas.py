"""Personas end to end: export the KG, train HDGI, publish the personas on User nodes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import neo4j
import numpy as np

from kgstore.export import ExportError, export_graph
from kgstore.personas import write_personas
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.train import TrainResult, train_hdgi


@dataclass
class PersonaReport:
    version: str
    users: int
    result: TrainResult


def learn_personas(
    driver: neo4j.Driver,
    database: str,
    dataset: str,
    home: Path,
    hidden_channels: int = 64,
    epochs: int = 200,
    patience: int = 20,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
) -> PersonaReport:
    """Train HDGI on ``dataset``'s graph (training interactions only) and publish personas
    for every user with at least one training interaction."""
    export = export_graph(driver, database, dataset, home / "cache" / "export", progress)
    interacted = [key for key in export.edges if key[0] == "User" and key[2] == "Item"]
    active = np.unique(np.concatenate([export.edges[key][0] for key in interacted]))
    if len(active) == 0:
        raise ExportError(f"no user of {dataset!r} has a training interaction")
    data = to_hetero_data(
        export.features, export.has_feature, export.edges, random_dim=hidden_channels, seed=seed
    )
    result = train_hdgi(
        hdgi_inputs(data),
        hidden_channels=hidden_channels,
        epochs=epochs,
        patience=patience,
        seed=seed,
        device=device,
        progress=progress,
        checkpoint=home / "models" / dataset / f"hdgi-seed{seed}.pt",
    )
    users = export.ids["User"][active].tolist()
    version = write_personas(
        driver,
        database,
        dataset,
        users,
        result.personas[active],
        model=f"hdgi-{hidden_channels}d-seed{seed}",
        progress=progress,
    )
    return PersonaReport(version, len(users), result)
