"""``kgrec train``, ``recommend``, ``serve`` and ``plot``: the recommender as a product."""

from __future__ import annotations

import argparse
import json
import logging.config
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kgstore.node_text import readable_title
from kgstore.settings import kgrec_home
from recommender.cli import common
from recommender.config import (
    STRIDE_DIVISOR,
    TRAIN_GRID,
    TUNED_SETTINGS,
    USER_DROPOUT_GRID,
    SASRecConfig,
    ServingConfig,
)
from recommender.util.markdown import table as markdown_table


def _guarded(command: common.Command) -> common.Command:
    """The product's own errors become one line on stderr and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        from recommender.serving.bundle import BundleError
        from recommender.serving.errors import RecommendError

        try:
            return command(args)
        except (BundleError, RecommendError) as error:
            print(f"kgrec: {error}", file=sys.stderr)
            return 2

    return run


def evaluation_table(evaluation: dict[str, dict[str, float]]) -> str:
    metrics = ("HR@10", "NDCG@10", "MRR@10", "HR@100", "NDCG@100")
    rows = [(model, *(f"{values[m]:.4f}" for m in metrics)) for model, values in evaluation.items()]
    return "\n".join(markdown_table(("model", *metrics), rows))


def cmd_train(args: argparse.Namespace) -> int:
    from recommender.pipelines.training import train_recommender
    from recommender.util.plots import evaluation_chart

    config = common.sasrec_config(args)  # checked before connecting
    given = [name for name in TUNED_SETTINGS if getattr(args, name) is not None]
    tune = args.tune and not given
    with common.graph(args.dataset) as graph:
        path, bundle, trained = train_recommender(
            graph,
            kgrec_home(),
            common.models_dir(),
            config,
            fusion=args.fusion,
            seed=args.seed,
            device=args.device,
            force=args.force,
            progress=not args.quiet,
            grid=TRAIN_GRID if tune else (),
            user_dropouts=USER_DROPOUT_GRID if tune else (),
            stride=args.stride_entry,
        )
    info = bundle.info
    for tried in info.training.get("tuning") or []:
        print(
            f"  {tried.get('model', 'reranker')}, tried {tried['changes'] or 'the defaults'}: "
            f"valid NDCG@10 {tried['valid_ndcg10']}"
        )
    chosen = {k: info.settings[k] for k in TUNED_SETTINGS}
    how = "chosen on validation" if info.training.get("tuning") else "as given"
    shown = {k: ("max_len" if k == "window_stride" and v is None else v) for k, v in chosen.items()}
    print("settings: " + ", ".join(f"{k} {v}" for k, v in shown.items()) + f" ({how})")
    print(
        f"\nrecommender {info.dataset}/{info.version} "
        + ("trained" if trained else "up to date")
        + f" (fusion {info.training.get('fusion')}, {info.training.get('seconds')} s on "
        f"{info.training.get('device')}); test users, full ranking over "
        f"{len(bundle.items):,} items:\n"
    )
    print(evaluation_table(info.evaluation))
    chart = evaluation_chart(info.evaluation, _chart_title(info), path / "evaluation.png")
    print(f"\nmodels in {path}; chart: {chart}")
    return 0


def _chart_title(info: Any) -> str:
    return f"{info.dataset}: recommender {info.version}, full ranking over all items"


def _print_recommendations(result: Any, explain: bool) -> None:
    print(
        f"persona: {result.persona}; read {result.items_read} of {result.session_length} "
        f"session items; model {result.model_version}"
    )
    for r in result:
        tag = "  (new item)" if r.cold else ""
        title = readable_title(r.title) if r.title else "(no title)"
        print(f"{r.rank:>3}. {r.item:<8} {title}{tag}")
        if explain and r.explanation is not None:
            print(f"       why: {r.explanation.text}")


def cmd_recommend(args: argparse.Namespace) -> int:
    from recommender.serving.recommender import Recommender

    with common.graph(args.dataset) as graph:
        recommender = Recommender.load(graph, common.models_dir(), ServingConfig(), args.version)
        result = recommender.recommend(args.items, args.user, args.k, args.explain)
    if args.json:
        print(json.dumps([asdict(r) for r in result], indent=2, default=str))
    else:
        titles = [readable_title(recommender.titles.get(i) or i) for i in args.items]
        print(f"session: {' -> '.join(titles)}")
        _print_recommendations(result, args.explain)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import torch
    import uvicorn

    # Requests are served concurrently from a thread pool; one intra-op thread each keeps
    # them from oversubscribing the cores (docs/benchmarks.md, "Serving").
    torch.set_num_threads(args.threads)

    from kgstore import stats
    from recommender.cli.status import staleness
    from recommender.serving.bundle import bundle_path
    from recommender.serving.guards import check_binding
    from recommender.serving.http import create_app
    from recommender.serving.recommender import Recommender
    from recommender.serving.reloading import ServedModels
    from recommender.serving.server import log_config, server_config

    config = ServingConfig(
        max_graph_requests=args.max_graph_requests,
        reload_every_s=args.reload_every,
        access_log=args.access_log,
    )
    secret = common.settings().api_token
    token = None if secret is None else secret.get_secret_value()
    check_binding(args.host, token)
    logging.config.dictConfig(log_config())  # uvicorn applies it again when it starts
    models = common.models_dir()
    with common.graph(args.dataset, config.driver_limits) as graph:
        recommender = Recommender.load(graph, models, config, args.version)
        reloads = args.version is None and config.reload_every_s > 0
        served = ServedModels(
            recommender,
            latest=(lambda: bundle_path(models, args.dataset).name) if reloads else None,
            load=(lambda v: Recommender.load(graph, models, config, v)) if reloads else None,
            every_s=config.reload_every_s,
        )
        state = stats.dataset_state(graph)
        stale = None if state is None else staleness(state, recommender.bundle.info)
        if stale is not None:
            print(
                f"note: this recommender is older than the graph ({stale}); `kgrec train "
                f"--dataset {args.dataset}` catches up, and a running service swaps it in",
                file=sys.stderr,
            )
        print(
            f"serving {args.dataset}/{recommender.bundle.info.version} on "
            f"http://{args.host}:{args.port} (API docs at /docs, metrics at /metrics); "
            + ("a bearer token is required" if token else "no token: this machine only")
            + (
                f"; a newer bundle is served within {served.every_s:g} s of training"
                if served.every_s
                else ""
            ),
            file=sys.stderr,
        )
        uvicorn.Server(server_config(create_app(served, token), args.host, args.port, config)).run()
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from kgstore.explain import user_persona
    from kgstore.personas import nearest_users
    from recommender.serving.bundle import bundle_path, load_bundle
    from recommender.util.plots import evaluation_chart, persona_graph

    if args.what == "evaluation":
        path = bundle_path(common.models_dir(), args.dataset, args.version)
        out = Path(args.out or path / "evaluation.png")
        info = load_bundle(path).info
        print(f"written: {evaluation_chart(info.evaluation, _chart_title(info), out)}")
        return 0
    with common.graph(args.dataset) as graph:
        if user_persona(graph, args.user_id) is None:
            print(f"user {args.user_id} is not in {args.dataset}")
            return 1
        nearest = nearest_users(graph, args.user_id, args.k)
    if not nearest:
        print(f"user {args.user_id} has no persona in {args.dataset}; run kgrec personas")
        return 1
    out = Path(args.out or kgrec_home() / "plots" / f"persona-{args.dataset}-{args.user_id}.png")
    print(f"written: {persona_graph(args.user_id, nearest, out, args.dataset)}")
    return 0


def register(sub: Any) -> None:
    """Register the product's commands on the ``kgrec`` sub-parser set."""
    p = sub.add_parser("train", help="train the retriever and reranker that kgrec serves")
    common.add_dataset(p)
    p.add_argument(
        "--fusion",
        choices=("input", "output"),
        help="where the persona enters the retriever (default: the better on validation)",
    )
    common.add_sasrec_options(p, full=False)
    p.add_argument("--batch-size", type=int, help="training batch (default: chosen on validation)")
    p.add_argument("--dropout", type=float, help="SASRec dropout (default: chosen on validation)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default: chosen on validation)")
    p.add_argument(
        "--max-len",
        type=int,
        help=f"the most recent items a model reads ({SASRecConfig().max_len}); training "
        "windows hold max-len targets",
    )
    p.add_argument(
        "--user-dropout",
        type=float,
        help="chance of dropping a training sequence's user vector in the retriever "
        "(default: chosen on validation)",
    )
    p.add_argument(
        "--tune",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="choose batch size, dropout and learning rate on the dataset's validation split "
        f"from {len(TRAIN_GRID)} settings (one more, a training-window stride of max_len // "
        f"{STRIDE_DIVISOR}, when some user's sequence is longer than a window), then the "
        f"retriever's user dropout from {len(USER_DROPOUT_GRID)} (default); off when any of "
        "them is given",
    )
    p.add_argument(
        "--stride-entry",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --tune, also try training windows every max_len // "
        f"{STRIDE_DIVISOR} targets where sequences are longer than a window (default); "
        "--no-stride-entry leaves it out (it trains at up to ten times the time per epoch)",
    )
    p.add_argument("--seed", type=int, default=0)
    common.add_device(p)
    p.add_argument("--force", action="store_true", help="retrain even when up to date")
    common.add_quiet(p)
    p.set_defaults(func=_guarded(cmd_train))

    p = sub.add_parser("recommend", help="recommend items to follow a session")
    p.add_argument("items", nargs="+", help="the session's item ids, oldest first")
    common.add_dataset(p)
    p.add_argument("--user", help="a known user whose persona to use (default: anonymous)")
    p.add_argument("-k", type=int, default=10, help="how many (default 10)")
    p.add_argument("--explain", action="store_true", help="why each item, from the graph")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--version", help="model version (default: the latest)")
    p.set_defaults(func=_guarded(cmd_recommend))

    p = sub.add_parser("serve", help="the HTTP service (POST /recommend, docs at /docs)")
    common.add_dataset(p)
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--threads", type=int, default=1, help="torch threads per request (1)")
    p.add_argument(
        "--max-graph-requests",
        type=int,
        default=ServingConfig().max_graph_requests,
        help="requests that query Neo4j (explanations, item and persona lookups, users "
        "added after training) served at once; the rest wait their turn (default %(default)s)",
    )
    p.add_argument(
        "--reload-every",
        type=float,
        default=ServingConfig().reload_every_s,
        metavar="SECONDS",
        help="look this often for a newer bundle (`kgrec train`) and serve it without a "
        "restart; 0: never (default %(default)g; never with --version)",
    )
    p.add_argument(
        "--access-log",
        action="store_true",
        help="a log line per request (method, path, status and request id); default: only "
        "warnings and errors",
    )
    p.add_argument("--version", help="model version (default: the latest, kept up to date)")
    p.set_defaults(func=_guarded(cmd_serve))

    p = sub.add_parser("plot", help="charts: the evaluation, a persona neighbourhood")
    what = p.add_subparsers(dest="what", required=True)
    q = what.add_parser("evaluation", help="the trained recommender's test metrics as bars")
    common.add_dataset(q)
    q.add_argument("--version", help="model version (default: the latest)")
    q.add_argument("--out", help="PNG path (default: evaluation.png in the model folder)")
    q.set_defaults(func=_guarded(cmd_plot))
    q = what.add_parser("persona", help="a user's persona neighbourhood as a graph picture")
    q.add_argument("user_id")
    common.add_dataset(q)
    q.add_argument("-k", type=int, default=6, help="nearest users (default 6)")
    q.add_argument("--out", help="PNG path (default: .kgrec/plots/persona-<dataset>-<id>.png)")
    q.set_defaults(func=_guarded(cmd_plot))
