"""``kgrec experiment comparison`` (alias ``table3``): every retriever variant, reranking
and the blend, over seeds, with the report written under ``--out``."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgstore.settings import SettingsError, kgrec_home
from recommender.cli import common

if TYPE_CHECKING:  # imported when a command runs: `kgrec --help` needs no torch
    from kgstore.export import GraphExport
    from kgstore.graph import Graph
    from recommender.pipelines.inputs import UserVector

# The method's names, as --users takes them, and the shuffled-persona control.
USER_LABELS = ("None", "Random", "LLM", "KG+LLM", "shuffled")


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, as the report prints it."""
    return (
        f"kgrec experiment table3 --dataset {args.dataset} --seeds {args.seeds} "
        f"--epochs {args.epochs} --patience {args.patience} --batch-size {args.batch_size}"
        + (f" --negatives {args.negatives}" if args.negatives else "")
        + ("" if args.item_residual else " --no-item-residual")
        + f" --user-dropout {args.user_dropout:g}"
        + (f" --device {args.device}" if args.device else "")
        + (f" --users {' '.join(args.users)}" if len(args.users) < len(USER_LABELS) else "")
    )


def prepare(graph: Graph, wanted: set[UserVector], run: common.Runner) -> GraphExport | None:
    """The graph's export once what the variants need is there: item embeddings, HDGI
    personas and LLM personas are made when missing. None when making one failed."""
    from kgstore.export import count_vectors, export_graph
    from recommender.pipelines.inputs import UserVector

    cache = kgrec_home() / "cache" / "export"
    export = export_graph(graph, cache)
    steps = []
    if not export.has_feature["Item"].any():
        steps.append(["embed", "--dataset", graph.dataset])
    persona_rows = wanted & {UserVector.PERSONA, UserVector.SHUFFLED}
    if persona_rows and not count_vectors(graph, "User", "persona"):
        steps.append(["personas", "--dataset", graph.dataset])
    if UserVector.LLM in wanted and not count_vectors(graph, "User", "llm_persona"):
        steps.append(["llm-persona", "--dataset", graph.dataset])
    for step in steps:
        print(f"\n$ kgrec {' '.join(step)}  (needed by the comparison, not there yet)")
        if run(step):
            return None
    return export_graph(graph, cache) if steps else export


def cmd_comparison(args: argparse.Namespace) -> int:
    """Makes what the variants need when it is missing (item embeddings, HDGI personas, LLM
    personas), trains every variant, writes the report."""
    import torch

    from recommender.experiments.comparison import RetrieverComparison, run_comparison
    from recommender.experiments.fingerprint import experiment_fingerprint
    from recommender.experiments.report import markdown, write_all
    from recommender.experiments.runstore import RunStore
    from recommender.pipelines.inputs import (
        VARIANTS,
        UserVector,
        for_catalogue,
        load_inputs,
    )
    from recommender.util.machine import accelerator, machine

    config = common.sasrec_config(args)  # checked before connecting
    if "None" not in args.users:
        raise SettingsError("--users must include None: plain SASRec is the reranker")
    wanted = {UserVector.from_label(label) for label in args.users}
    variants = tuple(v for v in VARIANTS if v.user in wanted)
    with common.graph(args.dataset) as graph:
        export = prepare(graph, wanted, args.run)
        if export is None:
            return 2
        variants = for_catalogue(variants, export.has_item_text)
        inputs = load_inputs(graph, kgrec_home(), export, variants)
    seeds = tuple(range(args.seeds))
    print(
        f"retriever comparison on {args.dataset}: {len(inputs.data.users):,} users, "
        f"{inputs.data.n_items:,} items, {len(variants)} retrievers + reranking, seeds {seeds}"
    )
    command, where = _command_line(args), f"{machine()}; accelerator: {accelerator()}"

    def save(partial: RetrieverComparison) -> None:
        write_all(partial, Path(args.out), command, where)
        print(f"saved the results of seeds {partial.seeds} under {args.out}")

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    store = RunStore(
        kgrec_home()
        / "experiments"
        / "table3"
        / args.dataset
        / experiment_fingerprint(inputs, config, device)
    )
    if args.fresh:
        shutil.rmtree(store.folder, ignore_errors=True)
    elif store.folder.exists():
        print(f"models kept from an earlier run of this experiment are reused: {store.folder}")
    comparison = run_comparison(
        inputs, config, seeds, variants, device, not args.quiet, on_seed=save, store=store
    )
    paths = write_all(comparison, Path(args.out), command, where)
    print(markdown(comparison, command, where))
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


def register(sub: Any) -> Any:
    """Adds ``kgrec experiment comparison``; returns the experiment sub-parsers."""
    p = sub.add_parser("experiment", help="reproduce the method's experiments")
    what = p.add_subparsers(dest="experiment", required=True)
    q = what.add_parser(
        "comparison",
        aliases=["table3"],
        help="retrievers x user/item representations, reranking and blend (Table 3)",
    )
    common.add_dataset(q)
    q.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    common.add_sasrec_options(q)
    q.add_argument(
        "--users",
        nargs="+",
        choices=USER_LABELS,
        default=list(USER_LABELS),
        help="user representations to run (default: all; None is required; shuffled is "
        "the persona retriever with every user's persona swapped for another user's)",
    )
    common.add_device(q)
    q.add_argument("--out", default="docs/results", help="report folder (docs/results)")
    q.add_argument(
        "--fresh",
        action="store_true",
        help="train every variant again (deleting this experiment's kept models); by "
        "default models kept from an earlier run of the same experiment (same data, "
        "features, settings and device) are loaded, so a stopped run continues",
    )
    common.add_quiet(q)
    q.set_defaults(func=cmd_comparison)
    return what
