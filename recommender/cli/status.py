"""``kgrec status``: where each dataset stands in the pipeline (graph, item vectors,
personas, the trained recommender) and the one command to run next."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgstore import stats
from kgstore.settings import SettingsError
from kgstore.stats import DatasetState
from recommender.cli import common
from recommender.cli.records import default_folder
from recommender.serving.bundle import BundleError, BundleInfo, bundle_path, read_info


@dataclass(frozen=True)
class Stage:
    """One line of the status: a stage's name and what it holds."""

    name: str
    text: str


def staleness(state: DatasetState, bundle: BundleInfo) -> str | None:
    """Why ``bundle`` is older than the graph (another split, or other personas than those
    published), or None when it is up to date."""
    if bundle.split_hash != state.split_sha256:
        return "trained on another split of the dataset"
    if bundle.persona_version != (state.persona_version or ""):
        return (
            f"trained with personas {bundle.persona_version or '(none)'}; "
            f"the graph now holds {state.persona_version or 'none'}"
        )
    return None


def describe(
    state: DatasetState,
    bundle: BundleInfo | None,
    problem: str | None = None,
    comparison: str | None = None,
    listing: str | None = None,
) -> tuple[list[Stage], str]:
    """The dataset's stages and the command to run next (or what it is ready for).

    Args:
        state: what the graph records.
        bundle: the latest trained recommender's provenance, None where there is none.
        problem: why the latest recommender could not be read, if it could not.
        comparison: what its comparison's records folder holds, where it has one
            (:func:`~recommender.experiments.record_listing.summary`).
        listing: the command that lists that folder in full (default: the dataset's
            default records folder's).
    """
    name = state.dataset
    split = (state.split_sha256 or "")[:12]
    finished = state.ingested_at is not None and not state.unfinished_phases
    stages = [
        Stage(
            "graph",
            f"{state.users:,} users, {state.items:,} items"
            + (
                f", ingested {state.ingested_at}, split {split}"
                if finished
                else f", ingest unfinished ({state.unfinished_phases} phase(s) open)"
            ),
        ),
        Stage(
            "item text",
            f"{state.embedded_items:,} of {state.items:,} items embedded"
            + (
                ""
                if state.embedded_items
                else " (no text: the models learn item vectors)"
                if state.embedded_relations
                else " (not embedded yet)"
            )
            + f"; relation types {state.embedded_relations} of {state.relations}",
        ),
        Stage(
            "personas",
            f"{state.with_persona:,} of {state.users:,} users, version {state.persona_version} "
            f"({state.persona_model})"
            if state.persona_version
            else "none learned",
        ),
    ]
    stale = None
    if bundle is None:
        stages.append(Stage("recommender", problem or "none trained"))
    else:
        stale = staleness(state, bundle)
        stages.append(
            Stage(
                "recommender",
                f"{bundle.version}, trained {bundle.created_at}"
                + (f": stale, {stale}" if stale else ", up to date"),
            )
        )
    if comparison is not None:
        stages.append(
            Stage(
                "comparison",
                f"{comparison} ({listing or f'kgrec experiment records --dataset {name}'})",
            )
        )
    if not finished:
        step = f"kgrec ingest {name}  (resumes; give the same --path)"
    elif not state.embedded_relations:
        step = f"kgrec embed --dataset {name}"
    elif not state.persona_version or not state.with_persona:
        step = f"kgrec personas --dataset {name}"
    elif bundle is None or stale:
        step = f"kgrec train --dataset {name}"
    else:
        step = f"ready: kgrec serve --dataset {name}, or kgrec recommend ITEM... --dataset {name}"
    return stages, step


def cmd_status(args: argparse.Namespace) -> int:
    if args.records is not None and args.dataset is None:
        raise SettingsError("--records needs --dataset: a records folder belongs to one dataset")
    models = common.models_dir()
    with common.database() as db:
        names = [args.dataset] if args.dataset else [str(d["dataset"]) for d in stats.datasets(db)]
        if not names:
            print("the graph holds no dataset yet; run `kgrec ingest <dataset>`")
            return 0
        missing = False
        for name in names:
            state = stats.dataset_state(db.graph(name))
            print(name)
            if state is None:
                print(f"  {'next':<12} not in the graph: kgrec ingest {name}")
                missing = True
                continue
            bundle, problem = None, None
            try:
                bundle = read_info(bundle_path(models, name))
            except BundleError as error:
                if (models / name).exists():
                    problem = str(error)
            folder = args.records or default_folder(name)
            listing = f"kgrec experiment records --records {args.records}" if args.records else None
            stages, step = describe(state, bundle, problem, _comparison(folder, state), listing)
            for stage in stages:
                print(f"  {stage.name:<12} {stage.text}")
            print(f"  {'next':<12} {step}")
    return 1 if missing else 0


def _comparison(folder: Path, state: DatasetState) -> str | None:
    """What a comparison's records ``folder`` holds, if it exists (the listing imports
    torch, so a dataset with no comparison does not pay for it), and, where they were made
    with other personas than the graph's, how to have theirs."""
    if not folder.is_dir():
        return None
    from recommender.experiments.record_listing import persona_models, summary

    held = summary(folder)
    others = sorted(persona_models(folder) - {state.persona_model})
    if held is None or not others:
        return held
    return (
        held
        + "; made with other personas than the graph's: "
        + ", ".join(
            f"kgrec personas --dataset {state.dataset} --reproduce {model}" for model in others
        )
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "status", help="where each dataset stands (graph, vectors, personas, recommender) "
        "and what to run next",
    )  # fmt: skip
    p.add_argument("--dataset", help="one dataset (default: every dataset in the graph)")
    p.add_argument(
        "--records", type=Path,
        help="with --dataset: the comparison's records folder, where `kgrec experiment "
        "compare --records DIR` keeps them (default: KGREC_HOME/experiments/compare/NAME/records)",
    )  # fmt: skip
    p.set_defaults(func=cmd_status)
