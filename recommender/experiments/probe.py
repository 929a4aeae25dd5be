"""How much a persona says about its user: linear probes of the personas against random
vectors and the mean of the user's item embeddings, over seeds (see ADR 0009 for the
targets)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kgstore.export import export_graph, read_user_properties
from kgstore.graph import Graph
from kgstore.splits import load_split, recorded_split_hash
from recommender.config import HDGIConfig
from recommender.experiments.probe_tasks import (
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
from recommender.experiments.saved_personas import load_persona_run
from recommender.pipelines.persona_learning import train_on_export
from recommender.util.markdown import table as markdown_table


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
            lines += [
                f"probe on {self.dataset}: {table.target} ({table.users:,} users, "
                f"{table.classes} {table.kind}), {len(self.seconds_per_epoch)} seeds, "
                "mean ± std",
                "",
            ]
            rows = []
            for method, scores in table.rows.items():
                values = np.array([astuple(s) for s in scores])
                mean, std = values.mean(axis=0), values.std(axis=0)
                rows.append(
                    (method, f"{mean[0]:.3f} ± {std[0]:.3f}", f"{mean[1]:.3f} ± {std[1]:.3f}")
                )
            lines += markdown_table(("persona", *table.columns), rows)
            lines.append("")
        lines += self.notes
        return "\n".join(lines)


def probe_personas(
    graph: Graph,
    home: Path,
    config: HDGIConfig,
    seeds: tuple[int, ...] = (0, 1, 2),
    device: str | None = None,
    progress: bool = True,
    saved: Path | None = None,
) -> ProbeReport:
    """HDGI personas against random vectors and mean item embeddings, over ``seeds`` (each
    seed trains HDGI anew and draws a new train/test split of the users).

    With ``saved``, the personas of each seed are read from that folder instead of trained
    (see :func:`save_persona_run`): personas trained on another machine, such as a GPU host
    without the graph, are scored against the same baselines and targets."""
    dataset = graph.dataset
    hidden_channels = config.hidden_channels
    export = export_graph(graph, home / "cache" / "export", progress)
    split = load_split(home, dataset, recorded_split_hash(graph))
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
    for name, property_task in user_property_tasks(export, read_user_properties(graph)).items():
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
    mean_items = [mean_item_embeddings(g) for g in graphs]
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
            for exported, targets, means in zip(graphs, graph_tasks, mean_items, strict=True):
                if exported is export and seed in loaded:
                    result = loaded[seed]
                else:
                    result = train_on_export(exported, config, seed, device, progress)
                if exported is export:
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
