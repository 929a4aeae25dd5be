"""Personas trained elsewhere (a GPU host without the graph), saved one file per seed with
the graph version and users they belong to, so the probe can score them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kgstore.export import GraphExport
from learners.hdgi.train import TrainResult

_RUN_FIELDS = {"graph_version", "users", "personas", "seconds_per_epoch", "best_epoch", "device"}


def persona_run_path(folder: Path, dataset: str, seed: int) -> Path:
    return folder / f"{dataset}-seed{seed}.npz"


def save_persona_run(folder: Path, export: GraphExport, seed: int, result: TrainResult) -> Path:
    """One seed's personas with the graph version and users they belong to, for
    :func:`probe_personas`."""
    path = persona_run_path(folder, export.dataset, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        graph_version=np.str_(export.version),
        users=np.asarray(export.ids["User"]).astype(str),
        personas=result.personas,
        seconds_per_epoch=np.float64(result.seconds_per_epoch),
        epochs=np.int64(len(result.losses)),
        best_epoch=np.int64(result.best_epoch),
        device=np.str_(result.device),
    )
    return path


def load_persona_run(
    folder: Path, export: GraphExport, seed: int, hidden_channels: int
) -> TrainResult:
    """A seed's saved personas, checked against the graph they are probed on."""
    path = persona_run_path(folder, export.dataset, seed)
    if not path.exists():
        raise FileNotFoundError(f"no saved personas for {export.dataset!r} seed {seed} at {path}")
    users = np.asarray(export.ids["User"]).astype(str)
    with np.load(path, allow_pickle=False) as run:
        missing = sorted(_RUN_FIELDS - set(run.files))
        if missing:
            raise ValueError(f"{path} is not a saved persona run: no {', '.join(missing)}")
        if str(run["graph_version"]) != export.version:
            raise ValueError(
                f"{path} was trained on graph version {run['graph_version']}; "
                f"the graph of {export.dataset!r} is at {export.version}"
            )
        personas = run["personas"]
        if personas.shape != (len(users), hidden_channels):
            raise ValueError(
                f"{path} holds {personas.shape[0]} personas of {personas.shape[1]} dimensions; "
                f"the graph has {len(users)} users and the probe expects {hidden_channels}"
            )
        if not np.array_equal(run["users"], users):
            raise ValueError(
                f"{path} was saved for other users, or another order, than the graph's"
            )
        result = TrainResult(personas.astype(np.float32), device=str(run["device"]))
        result.seconds_per_epoch = float(run["seconds_per_epoch"])
        result.best_epoch = int(run["best_epoch"])
    return result
