"""The ``kgrec`` command line."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import neo4j

from kgstore import explain, stats
from kgstore.connection import open_driver
from kgstore.datasets import DatasetError, load_dataset
from kgstore.export import ExportError
from kgstore.ingest import DEFAULT_BATCH_SIZE, IngestError, Ingestor
from kgstore.personas import PersonaReadError
from kgstore.schema import SchemaError
from kgstore.server import LocalNeo4j, ServerError
from kgstore.server.local import port_open
from kgstore.settings import Neo4jSettings, SettingsError, data_dir, kgrec_home
from kgstore.vocabulary import VocabularyError
from learners.semantics.embedders import Embedder, EmbeddingError
from learners.semantics.generators import GenerationError, Generator
from recommender.commands import add_parsers as add_product_parsers

DEMO_DATASET = "ml-100k"
DEMO_SESSION = ("50", "172", "181")  # Star Wars, The Empire Strikes Back, Return of the Jedi
USER_KINDS = ("None", "Random", "LLM", "KG+LLM")


def _local_server(settings: Neo4jSettings) -> LocalNeo4j:
    return LocalNeo4j(
        kgrec_home() / "neo4j",
        settings,
        heap=os.environ.get("KGREC_NEO4J_HEAP", "2g"),
        page_cache_mb=int(os.environ.get("KGREC_NEO4J_PAGECACHE_MB", "1024")),
    )


def connect() -> tuple[neo4j.Driver, Neo4jSettings]:
    """A driver for the configured Neo4j; the project's local server is started if needed."""
    settings = Neo4jSettings.from_env(create_local_password="NEO4J_PASSWORD" not in os.environ)
    if settings.is_local and not port_open(settings.port):
        print(f"kgrec: starting the local Neo4j on {settings.uri} ...", file=sys.stderr)
        _local_server(settings).start()
    return open_driver(settings), settings


def cmd_neo4j(args: argparse.Namespace) -> int:
    settings = Neo4jSettings.from_env(create_local_password=args.action == "start")
    server = _local_server(settings)
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


def cmd_ingest(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else data_dir() / args.dataset
    started = time.perf_counter()
    data = load_dataset(path, name=args.name or args.dataset, fmt=args.format)
    print(data.summary())
    print(f"  read and split in {time.perf_counter() - started:.1f}s")
    driver, settings = connect()
    with driver:
        ingestor = Ingestor(
            driver,
            settings.database,
            kgrec_home(),
            batch_size=args.batch_size,
            progress=not args.quiet,
            embedding_dim=int(os.environ.get("KGREC_EMBEDDING_DIM", "384")),
            persona_dim=int(os.environ.get("KGREC_PERSONA_DIM", "64")),
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
        nodes, relationships = stats.graph_counts(driver, settings.database, data.name)
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
    driver, settings = connect()
    with driver:
        names = (
            [args.dataset]
            if args.dataset
            else [str(d["dataset"]) for d in stats.datasets(driver, settings.database)]
        )
        if not names:
            print("the graph holds no dataset yet; run `kgrec ingest <dataset>`")
        for name in names:
            nodes, relationships = stats.graph_counts(driver, settings.database, name)
            print(f"dataset {name}")
            for label, count in sorted(nodes.items()):
                print(f"  (:{label:<10}) {count:>10,}")
            for rel, count in sorted(relationships.items()):
                print(f"  [:{rel:<26}] {count:>10,}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    driver, settings = connect()
    with driver:
        items = explain.user_neighbourhood(
            driver, settings.database, args.dataset, args.user_id, max_items=args.items
        )
    print(explain.format_neighbourhood(args.user_id, items))
    return 0 if items else 1


def make_embedder(args: argparse.Namespace) -> Embedder:
    """The configured embedding backend: an endpoint, a model directory, or the packaged one."""
    from learners.semantics import OpenAIEmbedder, SentenceTransformerEmbedder

    endpoint = args.endpoint or os.environ.get("KGREC_EMBED_ENDPOINT")
    if endpoint:
        model = args.endpoint_model or os.environ.get("KGREC_EMBED_ENDPOINT_MODEL")
        if not model:
            raise EmbeddingError(
                "an endpoint needs --endpoint-model (or KGREC_EMBED_ENDPOINT_MODEL)"
            )
        return OpenAIEmbedder(endpoint, model, query_instruction=args.query_instruction)
    return SentenceTransformerEmbedder(
        args.model or os.environ.get("KGREC_EMBED_MODEL") or None,
        num_threads=args.threads,
        query_instruction=args.query_instruction,
    )


def cmd_embed(args: argparse.Namespace) -> int:
    from recommender.semantics import embed_dataset

    embedder = make_embedder(args)
    print(f"embedding with {embedder!r}")
    driver, settings = connect()
    with driver:
        report = embed_dataset(
            driver,
            settings.database,
            args.dataset,
            embedder,
            persona_dim=int(os.environ.get("KGREC_PERSONA_DIM", "64")),
            force=args.force,
            reindex=args.reindex,
            progress=not args.quiet,
        )
    print("\n".join(report.lines()))
    return 0


def make_generator(args: argparse.Namespace) -> Generator:
    """The configured text generator (endpoint, local model, or the packaged SmolLM2), cached
    under ``KGREC_HOME/cache`` so a re-run costs nothing."""
    from learners.semantics.generators import (
        CachedGenerator,
        OpenAIChatGenerator,
        TransformersGenerator,
    )

    endpoint = args.chat_endpoint or os.environ.get("KGREC_CHAT_ENDPOINT")
    inner: Generator
    if endpoint:
        model = args.chat_model or os.environ.get("KGREC_CHAT_MODEL")
        if not model:
            raise GenerationError("a chat endpoint needs --chat-model (or KGREC_CHAT_MODEL)")
        inner = OpenAIChatGenerator(endpoint, model)
    else:
        inner = TransformersGenerator(
            args.generator or os.environ.get("KGREC_GENERATOR_MODEL") or None,
            num_threads=args.threads,
        )
    return CachedGenerator(inner, kgrec_home() / "cache" / "generations.sqlite")


def cmd_describe(args: argparse.Namespace) -> int:
    from recommender.semantics import describe_items

    generator = make_generator(args)
    print(f"describing items with {generator!r}")
    driver, settings = connect()
    with driver:
        count = describe_items(
            driver,
            settings.database,
            args.dataset,
            generator,
            kind=args.kind,
            limit=args.limit,
            force=args.force,
            max_new_tokens=args.max_new_tokens,
            progress=not args.quiet,
        )
    print(f"{count:,} items described; run `kgrec embed --dataset {args.dataset}` to re-embed them")
    return 0


def cmd_llm_persona(args: argparse.Namespace) -> int:
    from recommender.semantics import llm_personas

    generator = make_generator(args)
    embedder = make_embedder(args)
    print(f"LLM personas with {generator!r}, embedded by {embedder!r}")
    driver, settings = connect()
    with driver:
        count = llm_personas(
            driver,
            settings.database,
            args.dataset,
            generator,
            embedder,
            max_history=args.max_history,
            limit=args.limit,
            force=args.force,
            progress=not args.quiet,
        )
    print(f"{count:,} users given an LLM persona (User.llm_persona)")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from kgstore.embeddings import nearest_items, similar_items

    driver, settings = connect()
    with driver:
        if args.text:
            vector = make_embedder(args).embed_queries([args.text])[0]
            found = nearest_items(driver, settings.database, args.dataset, vector, args.k)
            print(f"items nearest to {args.text!r}:")
        else:
            found = similar_items(driver, settings.database, args.dataset, args.item, args.k)
            if not found:
                print(
                    f"item {args.item!r} has no vector in {args.dataset} (run kgrec embed)",
                    file=sys.stderr,
                )
                return 1
            print(f"items nearest to {args.item}:")
    for neighbour in found:
        print(f"  {neighbour.score:.3f}  {neighbour.item}  {neighbour.title or '(no title)'}")
    return 0


def cmd_personas(args: argparse.Namespace) -> int:
    from recommender.personas import learn_personas

    driver, settings = connect()
    with driver:
        report = learn_personas(
            driver,
            settings.database,
            args.dataset,
            kgrec_home(),
            hidden_channels=args.hidden,
            epochs=args.epochs,
            patience=args.patience,
            lr=args.lr,
            taste_weight=args.taste_weight,
            profile_weight=args.profile_weight,
            seed=args.seed,
            device=args.device,
            progress=not args.quiet,
            if_stale=args.if_stale,
        )
    if report is None:
        print(f"personas of {args.dataset} are up to date with the graph (left as they are)")
        return 0
    result = report.result
    print(
        f"HDGI on {result.device}: {len(result.losses)} epochs, "
        f"{result.seconds_per_epoch:.3f}s/epoch, loss {result.losses[0]:.4f} -> "
        f"{min(result.losses):.4f} (best epoch {result.best_epoch})"
    )
    for path, weight in sorted(result.attention.items(), key=lambda kv: -kv[1]):
        print(f"  metapath {path:<32} attention {weight:.3f}")
    print(f"personas version {report.version} published on {report.users:,} users")
    return 0


def cmd_explain_persona(args: argparse.Namespace) -> int:
    from kgstore.personas import nearest_users

    driver, settings = connect()
    with driver:
        found = nearest_users(driver, settings.database, args.dataset, args.user_id, k=args.k)
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


def cmd_probe(args: argparse.Namespace) -> int:
    from recommender.personas import probe_personas

    driver, settings = connect()
    with driver:
        report = probe_personas(
            driver,
            settings.database,
            args.dataset,
            kgrec_home(),
            seeds=tuple(args.seeds),
            hidden_channels=args.hidden,
            epochs=args.epochs,
            patience=args.patience,
            lr=args.lr,
            taste_weight=args.taste_weight,
            profile_weight=args.profile_weight,
            device=args.device,
            progress=not args.quiet,
            saved=args.personas,
        )
    print(report.table())
    print(f"HDGI seconds per epoch: {', '.join(f'{s:.3f}' for s in report.seconds_per_epoch)}")
    return 0


def cmd_table3(args: argparse.Namespace) -> int:
    """Table 3 for one dataset: makes what the rows need when it is missing (item
    embeddings, HDGI personas, LLM personas), trains every row, writes the report."""
    import torch

    from kgstore.export import count_vectors, export_graph
    from recommender.experiment import (
        RETRIEVERS,
        SASRecSettings,
        Table3,
        fingerprint,
        load_inputs,
        run_table3,
    )
    from recommender.machine import accelerator, machine
    from recommender.report import markdown, write_all
    from recommender.runstore import RunStore

    dataset = args.dataset
    if "None" not in args.users:
        raise SettingsError("--users must include None: the base SASRec is the reranker")
    rows = tuple(row for row in RETRIEVERS if row.user in args.users)
    driver, settings = connect()
    with driver:
        export = export_graph(driver, settings.database, dataset, kgrec_home() / "cache" / "export")
        steps = []
        if not export.has_feature["Item"].any():
            steps.append(["embed", "--dataset", dataset])
        if "KG+LLM" in args.users and not count_vectors(
            driver, settings.database, dataset, "User", "persona"
        ):
            steps.append(["personas", "--dataset", dataset])
        if "LLM" in args.users and not count_vectors(
            driver, settings.database, dataset, "User", "llm_persona"
        ):
            steps.append(["llm-persona", "--dataset", dataset])
        for step in steps:
            print(f"\n$ kgrec {' '.join(step)}  (needed by Table 3, not there yet)")
            code = main(step)
            if code:
                return code
        if steps:
            export = export_graph(
                driver, settings.database, dataset, kgrec_home() / "cache" / "export"
            )
        inputs = load_inputs(driver, settings.database, dataset, kgrec_home(), export, rows)
    sasrec = SASRecSettings(
        hidden=args.hidden,
        max_len=args.max_len,
        batch_size=args.batch_size,
        epochs=args.epochs,
        patience=args.patience,
        negatives=args.negatives,
        item_residual=args.item_residual,
        user_dropout=args.user_dropout,
    )
    seeds = tuple(range(args.seeds))
    print(
        f"Table 3 on {dataset}: {len(inputs.data.users):,} users, {inputs.data.n_items:,} items, "
        f"{len(rows)} retrievers + reranking, seeds {seeds}"
    )
    command = (
        f"kgrec experiment table3 --dataset {dataset} --seeds {args.seeds} "
        f"--epochs {args.epochs} --patience {args.patience} --batch-size {args.batch_size}"
        + (f" --negatives {args.negatives}" if args.negatives else "")
        + ("" if args.item_residual else " --no-item-residual")
        + f" --user-dropout {args.user_dropout:g}"
        + (f" --device {args.device}" if args.device else "")
        + (f" --users {' '.join(args.users)}" if len(args.users) < len(USER_KINDS) else "")
    )
    where = f"{machine()}; accelerator: {accelerator()}"

    def save(partial: Table3) -> None:
        write_all(partial, Path(args.out), command, where)
        print(f"saved the results of seeds {partial.seeds} under {args.out}")

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    store = RunStore(
        kgrec_home() / "experiments" / "table3" / dataset / fingerprint(inputs, sasrec, device)
    )
    if args.fresh:
        shutil.rmtree(store.folder, ignore_errors=True)
    elif store.folder.exists():
        print(f"models kept from an earlier run of this experiment are reused: {store.folder}")
    table = run_table3(
        inputs,
        sasrec,
        seeds,
        rows,
        device=device,
        progress=not args.quiet,
        on_seed=save,
        store=store,
    )
    paths = write_all(table, Path(args.out), command, where)
    print(markdown(table, command, where))
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


def cmd_explain_path(args: argparse.Namespace) -> int:
    driver, settings = connect()
    with driver:
        paths = explain.user_item_paths(
            driver, settings.database, args.dataset, args.user_id, args.item_id, k=args.k
        )
    if not paths:
        print(f"no path of at most 4 hops links user {args.user_id} to item {args.item_id}")
        return 1
    print(f"how user {args.user_id} connects to item {args.item_id}:")
    for path in paths:
        print(f"  {path.text()}")
    return 0


def cmd_drop(args: argparse.Namespace) -> int:
    driver, settings = connect()
    with driver:
        Ingestor(driver, settings.database, kgrec_home()).drop(args.dataset)
    print(f"dataset {args.dataset} removed from the graph")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job, end to end: provision Neo4j, ingest and embed ml-100k, stats, one
    explanation, nearest items by embedding, HDGI personas and a persona neighbourhood, the
    retriever and reranker with their evaluation, recommendations with explanations, and a
    persona picture. Every step skips work whose output is already up to date."""
    settings = Neo4jSettings.from_env(create_local_password="NEO4J_PASSWORD" not in os.environ)
    if settings.is_local:
        status = _local_server(settings).start() if not port_open(settings.port) else None
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
        # Fusion "output" is what validation chose for ml-100k in Table 3; training both
        # would double the demo's longest step.
        ["train", "--dataset", DEMO_DATASET, "--fusion", "output"],
        ["recommend", *DEMO_SESSION, "--dataset", DEMO_DATASET, "-k", "5", "--explain"],
        ["recommend", *DEMO_SESSION, "--dataset", DEMO_DATASET, "-k", "5", "--user", args.user],
        ["plot", "persona", args.user, "--dataset", DEMO_DATASET],
    ]
    for step in steps:
        print(f"\n$ kgrec {' '.join(step)}")
        code = main(step)
        if code:
            return code
    return 0


# HDGI defaults, as in learners.hdgi.train (kept apart so `kgrec --help` needs no torch;
# a unit test checks that they agree).
EPOCHS, PATIENCE, LR, TASTE_WEIGHT, PROFILE_WEIGHT = 800, 100, 5e-3, 1.0, 1.0


def add_hdgi_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"at most (default {EPOCHS})")
    p.add_argument(
        "--patience",
        type=int,
        default=PATIENCE,
        help=f"stop after this many epochs without a lower loss (default {PATIENCE})",
    )
    p.add_argument("--lr", type=float, default=LR, help=f"Adam learning rate (default {LR:g})")
    p.add_argument(
        "--taste-weight",
        type=float,
        default=TASTE_WEIGHT,
        help="weight of the co-user taste reconstruction added to the HDGI loss; 0 trains "
        f"plain HDGI (default {TASTE_WEIGHT:g})",
    )
    p.add_argument(
        "--profile-weight",
        type=float,
        default=PROFILE_WEIGHT,
        help="weight of the attribute-profile reconstruction added to the HDGI loss; 0 "
        f"leaves it out (default {PROFILE_WEIGHT:g})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kgrec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("neo4j", help="obtain/start/stop the project's local Neo4j 5.26")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=cmd_neo4j)

    p = sub.add_parser("ingest", help="load a dataset into the knowledge graph")
    p.add_argument("dataset", help="dataset name (ml-100k, amazon-kg-books, beauty, or your own)")
    p.add_argument("--path", help="dataset folder (default: KGREC_DATA_DIR/<dataset>)")
    p.add_argument(
        "--format",
        choices=["recbole", "amazon-kg", "sequences"],
        help="input format (default: detected)",
    )
    p.add_argument("--name", help="namespace in the graph (default: the dataset name)")
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows per write transaction (default {DEFAULT_BATCH_SIZE})",
    )
    p.add_argument("--force", action="store_true", help="redo phases already done")
    p.add_argument("--replace", action="store_true", help="drop the dataset first")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("stats", help="node and relationship counts per dataset")
    p.add_argument("--dataset", help="one dataset (default: all)")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("explain", help="explain from the graph")
    what = p.add_subparsers(dest="what", required=True)
    q = what.add_parser("user", help="a user's items and their attributes")
    q.add_argument("user_id")
    q.add_argument("--dataset", required=True)
    q.add_argument("--items", type=int, default=10, help="how many recent items (default 10)")
    q.set_defaults(func=cmd_explain)
    q = what.add_parser("persona", help="users nearest by persona and what they share")
    q.add_argument("user_id")
    q.add_argument("--dataset", required=True)
    q.add_argument("-k", "--k", type=int, default=5)
    q.set_defaults(func=cmd_explain_persona)
    q = what.add_parser("path", help="shortest KG paths from a user to an item")
    q.add_argument("user_id")
    q.add_argument("item_id")
    q.add_argument("--dataset", required=True)
    q.add_argument("-k", "--k", type=int, default=5)
    q.set_defaults(func=cmd_explain_path)

    def add_model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--model",
            help="sentence-transformers model directory "
            "(default: KGREC_EMBED_MODEL, else the packaged all-MiniLM-L6-v2)",
        )
        p.add_argument(
            "--endpoint",
            help="OpenAI-compatible API root, e.g. "
            "http://127.0.0.1:8000/v1 (default: KGREC_EMBED_ENDPOINT)",
        )
        p.add_argument("--endpoint-model", help="model name at the endpoint")
        p.add_argument("--query-instruction", help="prefix for query texts only (Qwen3)")
        p.add_argument("--threads", type=int, help="CPU threads for a local model")

    p = sub.add_parser("embed", help="text embeddings on items, attributes and relations")
    p.add_argument("--dataset", required=True)
    add_model_options(p)
    p.add_argument("--force", action="store_true", help="re-embed nodes whose text is unchanged")
    p.add_argument(
        "--reindex",
        action="store_true",
        help="drop and re-create the vector indexes for this model's dimension",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_embed)

    def add_generator_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--generator",
            help="local model: a .gguf file or model directory "
            "(default: KGREC_GENERATOR_MODEL, else the packaged SmolLM2-135M)",
        )
        p.add_argument(
            "--chat-endpoint",
            help="OpenAI-compatible API root for generation "
            "(default: KGREC_CHAT_ENDPOINT), e.g. vLLM serving Qwen3-8B",
        )
        p.add_argument("--chat-model", help="model name at the chat endpoint")
        p.add_argument("--limit", type=int, help="at most this many (default: all)")
        p.add_argument("--force", action="store_true", help="redo those already done")
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("describe", help="LLM-written item descriptions from titles (cached)")
    p.add_argument("--dataset", required=True)
    p.add_argument(
        "--kind",
        default="Movie and TV",
        help="what the items are, for the prompt (default 'Movie and TV'; e.g. 'book')",
    )
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--threads", type=int, help="CPU threads for a local model")
    add_generator_options(p)
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser(
        "llm-persona",
        help="the LLM persona baseline: preference keywords "
        "from each user's training items, embedded",
    )
    p.add_argument("--dataset", required=True)
    p.add_argument("--max-history", type=int, default=20, help="last N training items (20)")
    add_model_options(p)
    add_generator_options(p)
    p.set_defaults(func=cmd_llm_persona)

    p = sub.add_parser("similar", help="nearest items by text embedding (vector index)")
    p.add_argument("item", nargs="?", help="item id")
    p.add_argument("--text", help="free text instead of an item")
    p.add_argument("--dataset", required=True)
    p.add_argument("-k", "--k", type=int, default=10, help="how many (default 10)")
    add_model_options(p)
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("personas", help="learn user personas with HDGI and write them back")
    p.add_argument("--dataset", required=True)
    p.add_argument(
        "--hidden",
        type=int,
        default=int(os.environ.get("KGREC_PERSONA_DIM", "64")),
        help="persona size (default KGREC_PERSONA_DIM or 64)",
    )
    add_hdgi_options(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--if-stale",
        action="store_true",
        help="do nothing when personas of this model were learned from the current graph",
    )
    p.set_defaults(func=cmd_personas)

    p = sub.add_parser(
        "probe",
        help="how much a persona says about a user: linear probe "
        "against random vectors and mean item embeddings",
    )
    p.add_argument("--dataset", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--hidden", type=int, default=64, help="persona size (default 64)")
    add_hdgi_options(p)
    p.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    p.add_argument(
        "--personas",
        type=Path,
        help="score personas saved in this folder (DATASET-seedN.npz, as "
        "`python -m benchmarks.hdgi --save-personas` writes them) instead of training",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("experiment", help="reproduce the method's experiments")
    what = p.add_subparsers(dest="experiment", required=True)
    q = what.add_parser("table3", help="retrievers x user/item representations, reranking")
    q.add_argument("--dataset", required=True)
    q.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    q.add_argument("--hidden", type=int, default=64, help="SASRec width (default 64)")
    q.add_argument("--max-len", type=int, default=50, help="sequence length (default 50)")
    q.add_argument(
        "--batch-size", type=int, default=16, help="windows (of up to 50 targets) per step (16)"
    )
    q.add_argument("--epochs", type=int, default=200, help="at most (default 200)")
    q.add_argument("--patience", type=int, default=10, help="early stopping (default 10)")
    q.add_argument("--negatives", type=int, help="sampled negatives (default: full softmax)")
    q.add_argument(
        "--item-residual",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Description items: text projection plus a learned per-item offset (default); "
        "--no-item-residual: the text projection alone",
    )
    q.add_argument(
        "--user-dropout",
        type=float,
        default=0.5,
        help="chance of dropping a training sequence's user vector (default 0.5)",
    )
    q.add_argument(
        "--users",
        nargs="+",
        choices=USER_KINDS,
        default=list(USER_KINDS),
        help="user representations to run (default: all; None is required)",
    )
    q.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    q.add_argument("--out", default="docs/results", help="report folder (docs/results)")
    q.add_argument(
        "--fresh",
        action="store_true",
        help="train every row again (deleting this experiment's kept models); by default "
        "models kept from an earlier run of the same experiment (same data, features, "
        "settings and device) are loaded, so a stopped run continues where it stopped",
    )
    q.add_argument("--quiet", action="store_true", help="no progress bars")
    q.set_defaults(func=cmd_table3)

    add_product_parsers(sub)

    p = sub.add_parser("drop", help="remove one dataset from the graph")
    p.add_argument("dataset")
    p.set_defaults(func=cmd_drop)

    p = sub.add_parser("demo", help="the main job end to end on ml-100k")
    p.add_argument("--path", help="ml-100k folder (default: KGREC_DATA_DIR/ml-100k)")
    p.add_argument("--user", default="1", help="user to explain (default 1)")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "similar" and bool(args.item) == bool(args.text):
        parser.error("similar needs an item id or --text, not both")
    try:
        return int(args.func(args))
    except (
        DatasetError,
        EmbeddingError,
        GenerationError,
        ExportError,
        IngestError,
        PersonaReadError,
        SchemaError,
        ServerError,
        SettingsError,
        VocabularyError,
    ) as error:
        print(f"kgrec: {error}", file=sys.stderr)
        return 2
    except neo4j.exceptions.Neo4jError as error:
        print(f"kgrec: Neo4j refused the request: {error}", file=sys.stderr)
        return 2
    except neo4j.exceptions.DriverError as error:
        print(f"kgrec: cannot reach Neo4j: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
