"""Personas end to end: export the KG, train HDGI, publish the personas on User nodes."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from pathlib import Path

import neo4j
import numpy as np
from tqdm import tqdm

import learners.hdgi
from kgstore.export import ExportError, GraphExport, export_graph, read_user_properties
from kgstore.personas import personas_current, write_personas
from kgstore.splits import load_split, recorded_split_hash
from learners.hdgi.data import hdgi_inputs, to_hetero_data
from learners.hdgi.train import EPOCHS as HDGI_EPOCHS
from learners.hdgi.train import LR as HDGI_LR
from learners.hdgi.train import PATIENCE as HDGI_PATIENCE
from learners.hdgi.train import PROFILE_WEIGHT, TASTE_WEIGHT, TrainResult, train_hdgi
from recommender.code_digest import code_digest
from recommender.probe import (
    LATER_FRACTION,
    ProbeScore,
    ProbeTask,
    SetScore,
    SetTask,
    attribute_sets,
    held_out_set_task,
    held_out_task,
    mean_item_embeddings,
    most_frequent,
    probe_task,
    reduced,
    user_property_tasks,
    without_latest,
)


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
    epochs: int = HDGI_EPOCHS,
    patience: int = HDGI_PATIENCE,
    lr: float = HDGI_LR,
    taste_weight: float = TASTE_WEIGHT,
    profile_weight: float = PROFILE_WEIGHT,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    if_stale: bool = False,
) -> PersonaReport | None:
    """Train HDGI on ``dataset``'s graph (training interactions only) and publish personas
    for every user with at least one training interaction. With ``if_stale``, return None
    instead when personas of the same model were already learned from this graph."""
    export = export_graph(driver, database, dataset, home / "cache" / "export", progress)
    model = model_name(hidden_channels, lr, taste_weight, profile_weight, seed, epochs, patience)
    if if_stale and personas_current(driver, database, dataset, export.version, model):
        return None
    interacted = [key for key in export.edges if key[0] == "User" and key[2] == "Item"]
    active = np.unique(np.concatenate([export.edges[key][0] for key in interacted]))
    if len(active) == 0:
        raise ExportError(f"no user of {dataset!r} has a training interaction")
    result = train_on_export(
        export,
        HDGIRun(
            hidden_channels, epochs, patience, lr, taste_weight, profile_weight, device, progress
        ),
        seed,
        checkpoint=home / "models" / dataset / f"{model}.pt",
    )
    users = export.ids["User"][active].tolist()
    # Centred on the mean user: HDGI embeddings share a large common direction, and cosine
    # similarity (the persona index) should compare how users differ from the average user.
    personas = result.personas[active] - result.personas[active].mean(axis=0, keepdims=True)
    version = write_personas(
        driver,
        database,
        dataset,
        users,
        personas,
        model=model,
        progress=progress,
        graph_version=export.version,
    )
    return PersonaReport(version, len(users), result)


@dataclass
class ProbeTable:
    target: str  # what is predicted, in words
    users: int
    classes: int  # classes, or attributes for a set target
    rows: dict[str, list[ProbeScore | SetScore]]  # method -> one score per seed
    columns: tuple[str, str] = ("accuracy", "macro-F1")
    kind: str = "classes"


@dataclass
class ProbeReport:
    dataset: str
    attribute: str
    tables: list[ProbeTable]
    seconds_per_epoch: list[float]
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        lines = []
        for table in self.tables:
            first, second = table.columns
            lines += [
                f"probe on {self.dataset}: {table.target} ({table.users:,} users, "
                f"{table.classes} {table.kind}), {len(self.seconds_per_epoch)} seeds, "
                "mean ± std",
                "",
                f"| persona | {first} | {second} |",
                "| --- | ---: | ---: |",
            ]
            for method, scores in table.rows.items():
                values = np.array([astuple(s) for s in scores])
                mean, std = values.mean(axis=0), values.std(axis=0)
                lines.append(
                    f"| {method} | {mean[0]:.3f} ± {std[0]:.3f} | {mean[1]:.3f} ± {std[1]:.3f} |"
                )
            lines.append("")
        lines += self.notes
        return "\n".join(lines)


def probe_personas(
    driver: neo4j.Driver,
    database: str,
    dataset: str,
    home: Path,
    seeds: tuple[int, ...] = (0, 1, 2),
    hidden_channels: int = 64,
    epochs: int = HDGI_EPOCHS,
    patience: int = HDGI_PATIENCE,
    lr: float = HDGI_LR,
    taste_weight: float = TASTE_WEIGHT,
    profile_weight: float = PROFILE_WEIGHT,
    device: str | None = None,
    progress: bool = True,
    saved: Path | None = None,
) -> ProbeReport:
    """HDGI personas against random vectors and mean item embeddings, over ``seeds`` (each
    seed trains HDGI anew and draws a new train/test split of the users).

    With ``saved``, the personas of each seed are read from that folder instead of trained
    (see :func:`save_persona_run`): personas trained on another machine, such as a GPU host
    without the graph, are scored against the same baselines and targets."""
    export = export_graph(driver, database, dataset, home / "cache" / "export", progress)
    split = load_split(home, dataset, recorded_split_hash(driver, database, dataset))
    # Every saved seed is read and checked before any classifier runs.
    loaded = (
        {}
        if saved is None
        else {seed: load_persona_run(saved, export, seed, hidden_channels) for seed in seeds}
    )
    tasks: dict[str, ProbeTask | SetTask] = {
        "held-out": held_out_task(export, split),
        "training": probe_task(export),
        "held-out sets": held_out_set_task(export, split),
    }
    attribute = tasks["training"].attribute.lower()
    words = {
        "held-out": f"the most frequent {attribute} of the user's held-out (validation and "
        "test) items",
        "training": f"the most frequent {attribute} among the user's training items",
        "held-out sets": f"every {attribute} of the user's held-out items, among the most "
        "common, ranked",
    }
    # The later targets ask about the latest items of each user's training history, left
    # out of a second graph that their personas and baselines are built from.
    graphs = [export]
    later_tasks: dict[str, ProbeTask | SetTask] = {}
    notes = []
    if saved is None:
        earlier, later = without_latest(export, split)
        graphs.append(earlier)
        later_tasks = {
            "later": most_frequent(earlier, later),
            "later sets": attribute_sets(earlier, later),
        }
        share = f"{LATER_FRACTION:.0%} of the user's training items"
        words["later"] = (
            f"the most frequent {attribute} of the latest {share}, left out of the graph "
            "that personas and baselines are built from"
        )
        words["later sets"] = f"every {attribute} of those later items, ranked"
    else:
        notes.append(
            "The later targets need personas trained on the graph without each user's latest "
            "items; saved personas are of the whole graph, so those targets are not scored."
        )
    properties: dict[str, ProbeTask | SetTask] = {}
    for name, property_task in user_property_tasks(
        export, read_user_properties(driver, database, dataset)
    ).items():
        properties[f"user {name}"] = property_task
        words[f"user {name}"] = f"the user's {name} (from the dataset, not in the graph)"
    narrow = f"mean of item embeddings, PCA to {hidden_channels}-d"
    methods = ("HDGI (KG + LLM)", "random vectors", "mean of item embeddings", narrow)
    tables = {
        name: ProbeTable(
            words[name],
            len(task.users),
            task.classes,
            {method: [] for method in methods},
            task.columns,
            task.kind,
        )
        for name, task in {**tasks, **later_tasks, **properties}.items()
    }
    # Each graph with the targets its representations are scored on, and its baseline.
    graph_tasks = [tasks | properties, later_tasks][: len(graphs)]
    mean_items = [mean_item_embeddings(graph) for graph in graphs]
    run = HDGIRun(
        hidden_channels, epochs, patience, lr, taste_weight, profile_weight, device, progress
    )
    timings = []
    # The classifiers (cross-validated, up to 384 features) take longer than HDGI on large
    # datasets, so they get their own bar: one step per fitted probe.
    fits = tqdm(
        total=len(seeds) * len(tables) * len(methods),
        desc="probe classifiers",
        unit="fit",
        disable=not progress,
        leave=False,
    )
    with fits:
        for seed in seeds:
            for graph, targets, means in zip(graphs, graph_tasks, mean_items, strict=True):
                if graph is export and seed in loaded:
                    result = loaded[seed]
                else:
                    result = train_on_export(graph, run, seed)
                if graph is export:
                    timings.append(result.seconds_per_epoch)
                rng = np.random.default_rng(seed)
                features_of = (
                    result.personas,
                    rng.standard_normal(result.personas.shape).astype(np.float32),
                    means,
                    reduced(means, hidden_channels, seed),
                )
                representations = dict(zip(methods, features_of, strict=True))
                for name, task in targets.items():
                    for method, features in representations.items():
                        fits.set_postfix_str(f"seed {seed}, {name}, {method}")
                        tables[name].rows[method].append(task.score(features, seed))
                        fits.update()
    return ProbeReport(dataset, attribute, list(tables.values()), timings, notes)


def model_name(
    hidden_channels: int,
    lr: float,
    taste_weight: float,
    profile_weight: float,
    seed: int,
    epochs: int = HDGI_EPOCHS,
    patience: int = HDGI_PATIENCE,
) -> str:
    """The persona model's name on the User nodes: what changes the personas changes it
    (the settings, and a digest of HDGI's code), so ``--if-stale`` retrains after a change of
    settings or an upgrade that changes the model."""
    return (
        f"hdgi-{hidden_channels}d-lr{lr:g}-taste{taste_weight:g}-profile{profile_weight:g}"
        f"-epochs{epochs}-patience{patience}-seed{seed}"
        f"-code{code_digest(Path(learners.hdgi.__file__).parent)[:8]}"
    )


@dataclass(frozen=True)
class HDGIRun:
    """How HDGI is trained, the same for every seed (the defaults are ``kgrec personas``')."""

    hidden_channels: int = 64
    epochs: int = HDGI_EPOCHS
    patience: int = HDGI_PATIENCE
    lr: float = HDGI_LR
    taste_weight: float = TASTE_WEIGHT
    profile_weight: float = PROFILE_WEIGHT
    device: str | None = None
    progress: bool = True


def train_on_export(
    export: GraphExport, run: HDGIRun, seed: int, checkpoint: Path | None = None
) -> TrainResult:
    """HDGI on an exported graph; users and text-less nodes start random, fixed by ``seed``."""
    data = to_hetero_data(
        export.features,
        export.has_feature,
        export.edges,
        random_dim=run.hidden_channels,
        seed=seed,
    )
    return train_hdgi(
        hdgi_inputs(data),
        hidden_channels=run.hidden_channels,
        epochs=run.epochs,
        lr=run.lr,
        patience=run.patience,
        taste_weight=run.taste_weight,
        profile_weight=run.profile_weight,
        seed=seed,
        device=run.device,
        progress=run.progress,
        checkpoint=checkpoint,
    )


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
