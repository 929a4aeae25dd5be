"""``kgrec neo4j`` and ``kgrec drop``: the project's local server, and whole datasets."""

from __future__ import annotations

import argparse
from typing import Any

from kgstore.ingest import Ingestor
from kgstore.settings import Neo4jSettings, kgrec_home
from recommender.cli import common


def cmd_neo4j(args: argparse.Namespace) -> int:
    configured = Neo4jSettings.from_env(create_local_password=args.action == "start")
    server = common.local_server(configured)
    if args.action == "start":
        before = server.status()
        status = server.start()
        verb = "already running" if before.running else "started"
        print(f"Neo4j {verb} on {status.uri} (pid {status.pid}); data in {server.data_dir}")
    elif args.action == "stop":
        print("Neo4j stopped" if server.stop() else "Neo4j was not running")
    else:
        status = server.status()
        print(
            f"Neo4j {status.detail} ({status.uri}" + (f", pid {status.pid})" if status.pid else ")")
        )
        return 0 if status.running else 3
    return 0


def cmd_drop(args: argparse.Namespace) -> int:
    with common.database() as db:
        settings = common.settings()
        Ingestor(db, kgrec_home(), settings.embedding_dim, settings.persona_dim).drop(args.dataset)
    print(f"dataset {args.dataset} removed from the graph")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("neo4j", help="obtain/start/stop the project's local Neo4j 5.26")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=cmd_neo4j)

    p = sub.add_parser("drop", help="remove one dataset from the graph")
    p.add_argument("dataset")
    p.set_defaults(func=cmd_drop)
