"""``kgrec demo``: the main job end to end on ml-100k."""

from __future__ import annotations

import argparse
from typing import Any

from recommender.cli import common

DEMO_DATASET = "ml-100k"
DEMO_SESSION = ("50", "172", "181")  # Star Wars, The Empire Strikes Back, Return of the Jedi


def cmd_demo(args: argparse.Namespace) -> int:
    """Provision Neo4j, ingest and embed ml-100k, stats, one explanation, nearest items by
    embedding, HDGI personas and a persona neighbourhood, the retriever and reranker with
    their evaluation, recommendations with explanations, and a persona picture. Every step
    skips work whose output is already up to date."""
    configured = common.neo4j_settings()
    status = common.ensure_server(configured)
    if status:
        print(f"Neo4j running on {status.uri}")
    steps = [
        ["ingest", DEMO_DATASET] + (["--path", args.path] if args.path else []),
        ["embed", "--dataset", DEMO_DATASET],
        ["stats", "--dataset", DEMO_DATASET],
        ["explain", "user", args.user, "--dataset", DEMO_DATASET, "--items", "8"],
        ["similar", "50", "--dataset", DEMO_DATASET, "-k", "5"],
        ["personas", "--dataset", DEMO_DATASET, "--if-stale"],
        ["explain", "persona", args.user, "--dataset", DEMO_DATASET, "-k", "3"],
        # The output fusion is what validation chose for ml-100k in the retriever comparison;
        # training both would double the demo's longest step, and the training-window stride
        # (chosen on ml-100k's validation by a full `kgrec train`) would make it four times
        # as long on a CPU.
        ["train", "--dataset", DEMO_DATASET, "--fusion", "output", "--no-stride-entry"],
        ["recommend", *DEMO_SESSION, "--dataset", DEMO_DATASET, "-k", "5", "--explain"],
        ["recommend", *DEMO_SESSION, "--dataset", DEMO_DATASET, "-k", "5", "--user", args.user],
        ["plot", "persona", args.user, "--dataset", DEMO_DATASET],
    ]
    run: common.Runner = args.run
    for step in steps:
        print(f"\n$ kgrec {' '.join(step)}")
        code = run(step)
        if code:
            return code
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="the main job end to end on ml-100k")
    p.add_argument("--path", help="ml-100k folder (default: KGREC_DATA_DIR/ml-100k)")
    p.add_argument("--user", default="1", help="user to explain (default 1)")
    p.set_defaults(func=cmd_demo)
