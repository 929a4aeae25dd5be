"""``kgrec personas``, ``probe`` and ``explain persona``: HDGI personas of the users."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kgstore.settings import kgrec_home
from learners.hdgi.encoder import attention_entropy
from recommender.cli import common
from recommender.config import HDGI_FUSIONS, HDGI_GRID, HDGI_TUNED, HDGIConfig


def cmd_personas(args: argparse.Namespace) -> int:
    from recommender.pipelines.persona_learning import learn_personas

    if args.restore_memory:
        from recommender.pipelines.persona_learning import PersonaError, restore_memory

        with common.graph(args.dataset) as graph:
            try:
                path = restore_memory(graph, kgrec_home(), progress=not args.quiet)
            except PersonaError as error:
                print(f"kgrec: {error}", file=sys.stderr)
                return 2
        print(f"persona memory rebuilt from the checkpoint and checked: {path}")
        return 0
    config = common.hdgi_config(args)  # checked before connecting
    given = [name for name in HDGI_TUNED if getattr(args, name) is not None]
    grid = HDGI_GRID if args.tune and not given else ()
    # the fusion is chosen too where it was left to the default
    default = HDGIConfig()
    open_fusion = args.path_norm == "auto" and args.fusion == default.fusion
    open_fusion = open_fusion and args.path_dropout == default.path_dropout
    fusions = HDGI_FUSIONS if args.tune and open_fusion else ()
    from recommender.pipelines.persona_learning import PersonaError

    with common.graph(args.dataset) as graph:
        try:
            report = learn_personas(
                graph,
                kgrec_home(),
                config,
                seed=args.seed,
                device=args.device,
                progress=not args.quiet,
                if_stale=args.if_stale,
                grid=grid,
                fusions=fusions,
                reproduce=args.reproduce,
            )
        except PersonaError as error:
            print(f"kgrec: {error}", file=sys.stderr)
            return 2
    if report is None:
        print(f"personas of {args.dataset} are up to date with the graph (left as they are)")
        return 0
    result = report.result
    print(
        f"HDGI on {result.device}: {len(result.losses)} epochs, "
        f"{result.seconds_per_epoch:.3f}s/epoch, loss {result.losses[0]:.4f} -> "
        f"{min(result.losses):.4f} (best epoch {result.best_epoch})"
    )
    for tried in report.tuning:
        print(
            f"  tried {tried['changes']}: stopped after {tried['epochs_run']} epochs, "
            f"neighbours' valid NDCG@10 {tried['valid_ndcg10']}"
        )
    how = (
        "as the choice published it, not chosen again"
        if args.reproduce
        else "chosen on validation"
        if report.tuning
        else "as given"
    )
    print(
        f"training length: {report.config.epochs} epochs at most, patience "
        f"{report.config.patience}, metapath outputs "
        f"{'layer-normalised' if report.config.path_norm else 'as they are'} ({how}); "
        f"model {report.model}"
    )
    if report.margin is not None:
        m = report.margin
        print(
            f"  ahead of the next best {m.over} by {m.difference:+.4f} NDCG@10, 95% interval "
            f"over validation users {m.low:+.4f} to {m.high:+.4f}"
            + (": within their noise" if m.low <= 0.0 <= m.high else "")
        )
    for metapath, weight in sorted(report.attention.items(), key=lambda kv: -kv[1]):
        print(f"  metapath {metapath:<32} attention {weight:.3f}")
    print(f"  attention entropy {attention_entropy(list(report.attention.values())):.3f} "
          "(0: one metapath, 1: all alike)")  # fmt: skip
    print(f"personas version {report.version} published on {report.users:,} users")
    return 0


def cmd_persona_add(args: argparse.Namespace) -> int:
    import time

    from kgstore.users import UserError, add_user
    from recommender.pipelines.persona_learning import PersonaError, add_user_personas

    with common.graph(args.dataset) as graph:
        try:
            if args.items:
                edges = add_user(graph, args.user, args.items)
                print(f"user {args.user}: {edges} interactions written to {args.dataset}")
            started = time.perf_counter()
            added = add_user_personas(graph, kgrec_home(), [args.user])
        except (UserError, PersonaError) as error:
            print(f"kgrec: {error}", file=sys.stderr)
            return 2
    seconds = time.perf_counter() - started
    skipped = added.unknown_items[args.user]
    print(
        f"persona of {args.user} written (version {added.version}, {seconds * 1000:.0f} ms"
        + (f"; {skipped} items newer than the personas were skipped" if skipped else "")
        + "); recommend with --user "
        + args.user
    )
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from recommender.experiments.probe import probe_personas

    config = common.hdgi_config(args)  # checked before connecting
    with common.graph(args.dataset) as graph:
        report = probe_personas(
            graph,
            kgrec_home(),
            config,
            seeds=tuple(args.seeds),
            device=args.device,
            progress=not args.quiet,
            saved=args.personas,
        )
    print(report.table())
    print(f"HDGI seconds per epoch: {', '.join(f'{s:.3f}' for s in report.seconds_per_epoch)}")
    return 0


def cmd_explain_persona(args: argparse.Namespace) -> int:
    from kgstore.personas import nearest_users

    with common.graph(args.dataset) as graph:
        found = nearest_users(graph, args.user_id, k=args.k)
    if not found:
        print(f"user {args.user_id} has no persona in {args.dataset} (run kgrec personas)")
        return 1
    print(f"users nearest to {args.user_id} by persona:")
    for n in found:
        print(f"  {n.score:.3f}  user {n.user}")
        if n.shared_attributes:
            print(f"         shares: {', '.join(map(str, n.shared_attributes))}")
        if n.shared_items:
            print(f"         both have: {', '.join(map(str, n.shared_items))}")
    return 0


def register(sub: Any, explain: Any) -> None:
    """Adds personas and probe to ``sub``, and ``persona`` to the explain sub-parsers."""
    p = sub.add_parser("personas", help="learn user personas with HDGI and write them back")
    common.add_dataset(p)
    common.add_hdgi_options(p, hidden_default=common.settings().persona_dim, tuned=True)
    common.add_metapath_options(p)
    p.add_argument(
        "--tune",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"choose the training length from {len(HDGI_GRID)} settings, and whether to "
        "layer-normalise the metapaths (--path-norm auto), on the dataset's validation split "
        "(default); the length is given when --epochs or --patience is",
    )
    p.add_argument("--seed", type=int, default=0)
    common.add_device(p)
    common.add_quiet(p)
    p.add_argument(
        "--if-stale",
        action="store_true",
        help="do nothing when personas of this model were learned from the current graph",
    )
    p.add_argument(
        "--reproduce",
        metavar="MODEL",
        help="train the personas a tuned run published as MODEL (the name `kgrec status` "
        "and a comparison's report show, such as ...-tuned...:pathnorm-epochs200-patience100) "
        "without choosing again: its run only, published under MODEL, so this machine has "
        "the personas a comparison's records were made with (same settings, seed and code; "
        "the vectors may differ in their last bits from another machine's)",
    )
    p.add_argument(
        "--restore-memory",
        action="store_true",
        help="train nothing: rebuild the current personas' memory (for users added later "
        "and session personas) from their checkpoint, for personas learned before it was kept",
    )
    p.set_defaults(func=cmd_personas)

    p = sub.add_parser(
        "persona-add",
        help="a user who arrived after training: write their interactions and their persona "
        "from the trained HDGI, without retraining",
    )
    p.add_argument("user", help="the user's id (new, or known with new interactions)")
    p.add_argument("items", nargs="*", help="items the user interacted with, oldest first")
    common.add_dataset(p)
    p.set_defaults(func=cmd_persona_add)

    p = sub.add_parser(
        "probe",
        help="how much a persona says about a user: linear probe "
        "against random vectors and mean item embeddings",
    )
    common.add_dataset(p)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    common.add_hdgi_options(p, hidden_default=HDGIConfig().hidden_channels)
    common.add_device(p)
    p.add_argument(
        "--personas",
        type=Path,
        help="score personas saved in this folder (DATASET-seedN.npz, as "
        "`python -m benchmarks.hdgi --save-personas` writes them) instead of training",
    )
    common.add_quiet(p)
    p.set_defaults(func=cmd_probe)

    q = explain.add_parser("persona", help="users nearest by persona and what they share")
    q.add_argument("user_id")
    common.add_dataset(q)
    q.add_argument("-k", "--k", type=int, default=5)
    q.set_defaults(func=cmd_explain_persona)
