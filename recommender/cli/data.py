"""``kgrec ingest``, ``stats`` and ``explain``: datasets into the graph, and what it holds."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from kgstore import explain, stats
from kgstore.datasets import ADAPTERS, CanonicalDataset, DatasetError, load_dataset
from kgstore.datasets.names import read_names, with_names
from kgstore.datasets.registry import detect_format
from kgstore.datasets.tables import TableColumns
from kgstore.ingest import DEFAULT_BATCH_SIZE, Ingestor
from kgstore.settings import SettingsError, data_dir, kgrec_home
from kgstore.vocabulary import check_name
from recommender.cli import common
from recommender.util.markdown import table as markdown_table


def add_table_options(p: argparse.ArgumentParser) -> None:
    """The table format's column names (see ``kgstore/datasets/tables.py``)."""
    p.add_argument(
        "--columns",
        help="table format: which column holds what, e.g. user=customer_id,item=sku,"
        "timestamp=ts (names: user item timestamp rating title head relation tail "
        "head_name tail_name)",
    )
    p.add_argument(
        "--text-columns",
        help="table format: the items' free-text columns, comma-separated (default: "
        "guessed from their length)",
    )
    p.add_argument(
        "--category-columns",
        help="table format: the items' categorical columns, comma-separated (default: the "
        "other text columns)",
    )


def table_columns(args: argparse.Namespace) -> TableColumns:
    """The :class:`TableColumns` the options give; an unknown name is an error."""
    given: dict[str, Any] = {}
    names = set(TableColumns.__dataclass_fields__) - {"text", "categories"}
    for pair in filter(None, (args.columns or "").split(",")):
        key, _, value = pair.partition("=")
        if key.strip() not in names or not value.strip():
            raise SettingsError(f"--columns: {pair!r} is not NAME=COLUMN with NAME one of "
                                f"{', '.join(sorted(names))}")  # fmt: skip
        given[key.strip()] = value.strip()
    for option, field_name in (("text_columns", "text"), ("category_columns", "categories")):
        value = getattr(args, option)
        if value is not None:
            given[field_name] = tuple(c.strip() for c in value.split(",") if c.strip())
    return TableColumns(**given)


def read_dataset(
    args: argparse.Namespace, path: Path, name: str, fmt: str | None
) -> CanonicalDataset:
    """The dataset as ``ingest`` and ``inspect`` read it: its format, the table options
    and the ``--names`` file."""
    data = load_dataset(path, name=name, fmt=fmt, columns=table_columns(args))
    return with_names(data, read_names(Path(args.names))) if args.names else data


def cmd_inspect(args: argparse.Namespace) -> int:
    """What ``kgrec ingest`` would write, without a database; exit 2 on the first problem."""
    started = time.perf_counter()
    path = Path(args.path)
    try:
        fmt = args.format or detect_format(path)
        data = read_dataset(args, path, args.name or path.stem, fmt)
    except DatasetError as error:
        print(f"kgrec inspect: {error}", file=sys.stderr)
        return 2
    nodes, relationships = data.expected_counts()
    untitled = int(data.items["title"].isna().sum()) if "title" in data.items else len(data.items)
    splits = data.interactions["split"].value_counts()
    if args.json:
        report = {
            "format": fmt,
            "dataset": data.name,
            "nodes": nodes,
            "relationships": relationships,
            "splits": {name: int(splits.get(name, 0)) for name in ("train", "valid", "test")},
            "items_without_title": untitled,
            "notes": data.notes,
        }
        print(json.dumps(report, indent=2))
        return 0
    print(f"format {fmt}")
    print(data.summary())
    print("\nnodes ingest would write:")
    rows = [[k, f"{v:,}"] for k, v in sorted(nodes.items())]
    print("\n".join(markdown_table(["label", "count"], rows)))
    print("\nrelationships ingest would write:")
    rows = [[k, f"{v:,}"] for k, v in sorted(relationships.items())]
    print("\n".join(markdown_table(["type", "count"], rows)))
    print(f"\nitems without a title: {untitled:,} of {len(data.items):,}")
    print(f"read in {time.perf_counter() - started:.1f}s")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    check_name(args.name or args.dataset)  # before reading or connecting
    path = Path(args.path) if args.path else data_dir() / args.dataset
    started = time.perf_counter()
    data = read_dataset(args, path, args.name or args.dataset, args.format)
    print(data.summary())
    print(f"  read and split in {time.perf_counter() - started:.1f}s")
    settings = common.settings()
    with common.database() as db:
        ingestor = Ingestor(
            db,
            kgrec_home(),
            settings.embedding_dim,
            settings.persona_dim,
            batch_size=args.batch_size,
            progress=not args.quiet,
        )
        if args.replace:
            ingestor.drop(data.name)
        report = ingestor.ingest(data, force=args.force)
        for phase in report.phases:
            state = "skipped (done)" if phase.skipped else f"{phase.seconds:6.1f}s"
            print(f"  {phase.phase:<48} {phase.rows:>9,} rows  {state}")
        if report.relationships_per_second:
            print(
                f"  relationships/s over all relationship phases (with per-phase overhead): "
                f"{report.relationships_per_second:,.0f}"
            )
        nodes, relationships = stats.graph_counts(db.graph(data.name))
    expected_nodes, expected_relationships = data.expected_counts()
    if (nodes, relationships) != (expected_nodes, expected_relationships):
        print("kgrec: graph counts differ from the dataset:", file=sys.stderr)
        print(f"  graph    {nodes} {relationships}", file=sys.stderr)
        print(f"  expected {expected_nodes} {expected_relationships}", file=sys.stderr)
        return 1
    print(
        f"  graph matches the dataset: {sum(nodes.values()):,} nodes, "
        f"{sum(relationships.values()):,} relationships"
    )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with common.database() as db:
        names = [args.dataset] if args.dataset else [str(d["dataset"]) for d in stats.datasets(db)]
        if not names:
            print("the graph holds no dataset yet; run `kgrec ingest <dataset>`")
        for name in names:
            nodes, relationships = stats.graph_counts(db.graph(name))
            print(f"dataset {name}")
            for label, count in sorted(nodes.items()):
                print(f"  (:{label:<10}) {count:>10,}")
            for rel, count in sorted(relationships.items()):
                print(f"  [:{rel:<26}] {count:>10,}")
    return 0


def cmd_explain_user(args: argparse.Namespace) -> int:
    with common.graph(args.dataset) as graph:
        items = explain.user_neighbourhood(graph, args.user_id, max_items=args.items)
    print(explain.format_neighbourhood(args.user_id, items))
    return 0 if items else 1


def cmd_explain_path(args: argparse.Namespace) -> int:
    with common.graph(args.dataset) as graph:
        paths = explain.user_item_paths(graph, args.user_id, args.item_id, k=args.k)
    if not paths:
        print(f"no path of at most 4 hops links user {args.user_id} to item {args.item_id}")
        return 1
    print(f"how user {args.user_id} connects to item {args.item_id}:")
    for path in paths:
        print(f"  {path.text()}")
    return 0


def register(sub: Any) -> Any:
    """Adds ingest, stats and explain; returns explain's sub-parsers for other groups."""
    p = sub.add_parser("ingest", help="load a dataset into the knowledge graph")
    p.add_argument("dataset", help="dataset name (ml-100k, amazon-kg-books, beauty, or your own)")
    p.add_argument("--path", help="dataset folder (default: KGREC_DATA_DIR/<dataset>)")
    p.add_argument("--format", choices=sorted(ADAPTERS), help="input format (default: detected)")
    add_table_options(p)
    p.add_argument("--name", help="namespace in the graph (default: the dataset name)")
    p.add_argument(
        "--names",
        help="names for KG entities that have none: a file with the header 'id<TAB>name' "
        "or 'id,name' (explanations then use them)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows per write transaction (default {DEFAULT_BATCH_SIZE})",
    )
    p.add_argument("--force", action="store_true", help="redo phases already done")
    p.add_argument("--replace", action="store_true", help="drop the dataset first")
    common.add_quiet(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "inspect", help="check a dataset folder and show what ingest would write (no database)"
    )
    p.add_argument("path", help="dataset folder or file")
    p.add_argument("--format", choices=sorted(ADAPTERS), help="input format (default: detected)")
    p.add_argument("--name", help="namespace it would get (default: the folder's name)")
    p.add_argument("--names", help="names for unnamed KG entities, as for ingest")
    p.add_argument("--json", action="store_true", help="the counts as JSON")
    add_table_options(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("stats", help="node and relationship counts per dataset")
    p.add_argument("--dataset", help="one dataset (default: all)")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("explain", help="explain from the graph")
    what = p.add_subparsers(dest="what", required=True)
    q = what.add_parser("user", help="a user's items and their attributes")
    q.add_argument("user_id")
    common.add_dataset(q)
    q.add_argument("--items", type=int, default=10, help="how many recent items (default 10)")
    q.set_defaults(func=cmd_explain_user)
    q = what.add_parser("path", help="shortest KG paths from a user to an item")
    q.add_argument("user_id")
    q.add_argument("item_id")
    common.add_dataset(q)
    q.add_argument("-k", "--k", type=int, default=5)
    q.set_defaults(func=cmd_explain_path)
    return what
