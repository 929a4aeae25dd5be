"""``kgrec embed``, ``describe``, ``llm-persona`` and ``similar``: language models on the
graph's nodes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from recommender.cli import common
from recommender.cli.backends import (
    add_generator_options,
    add_model_options,
    make_embedder,
    make_generator,
)


def cmd_embed(args: argparse.Namespace) -> int:
    from recommender.pipelines.semantics import embed_dataset

    embedder = make_embedder(args)
    print(f"embedding with {embedder!r}")
    with common.graph(args.dataset) as graph:
        report = embed_dataset(
            graph,
            embedder,
            persona_dim=common.settings().persona_dim,
            force=args.force,
            reindex=args.reindex,
            progress=not args.quiet,
        )
    print("\n".join(report.lines()))
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    from recommender.pipelines.semantics import describe_items

    generator = make_generator(args)
    print(f"describing items with {generator!r}")
    with common.graph(args.dataset) as graph:
        count = describe_items(
            graph,
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
    from recommender.pipelines.semantics import llm_personas

    generator = make_generator(args)
    embedder = make_embedder(args)
    print(f"LLM personas with {generator!r}, embedded by {embedder!r}")
    with common.graph(args.dataset) as graph:
        count = llm_personas(
            graph,
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

    with common.graph(args.dataset) as graph:
        if args.text:
            vector = make_embedder(args).embed_queries([args.text])[0]
            found = nearest_items(graph, vector, args.k)
            print(f"items nearest to {args.text!r}:")
        else:
            found = similar_items(graph, args.item, args.k)
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


def register(sub: Any) -> None:
    p = sub.add_parser("embed", help="text embeddings on items, attributes and relations")
    common.add_dataset(p)
    add_model_options(p)
    p.add_argument("--force", action="store_true", help="re-embed nodes whose text is unchanged")
    p.add_argument(
        "--reindex",
        action="store_true",
        help="drop and re-create the vector indexes for this model's dimension",
    )
    common.add_quiet(p)
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("describe", help="LLM-written item descriptions from titles (cached)")
    common.add_dataset(p)
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
    common.add_dataset(p)
    p.add_argument("--max-history", type=int, default=20, help="last N training items (20)")
    add_model_options(p)
    add_generator_options(p)
    p.set_defaults(func=cmd_llm_persona)

    p = sub.add_parser("similar", help="nearest items by text embedding (vector index)")
    p.add_argument("item", nargs="?", help="item id")
    p.add_argument("--text", help="free text instead of an item")
    common.add_dataset(p)
    p.add_argument("-k", "--k", type=int, default=10, help="how many (default 10)")
    add_model_options(p)
    p.set_defaults(func=cmd_similar)
