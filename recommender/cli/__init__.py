"""The ``kgrec`` command line: one module per group of commands, each adding its own
sub-parsers; this module puts them together and turns the product's errors into one line
on stderr and exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import neo4j
import pydantic

from kgstore.datasets import DatasetError
from kgstore.export import ExportError
from kgstore.ingest import IngestError
from kgstore.personas import PersonaReadError
from kgstore.schema import SchemaError
from kgstore.server import ServerError
from kgstore.settings import SettingsError
from kgstore.vocabulary import VocabularyError
from learners.semantics.embedders import EmbeddingError
from learners.semantics.generators import GenerationError
from recommender.cli import (
    compare,
    data,
    demo,
    experiments,
    personas,
    product,
    semantics,
    server,
    status,
)

ERRORS = (
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
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgrec", description="A knowledge-graph-backed, persona-driven session recommender."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    server.register(sub)
    explain = data.register(sub)
    semantics.register(sub)
    personas.register(sub, explain)
    compare.register(experiments.register(sub))
    product.register(sub)
    demo.register(sub)
    status.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "similar" and bool(args.item) == bool(args.text):
        parser.error("similar needs an item id or --text, not both")
    args.run = main  # commands that run other commands (demo, experiment) call this
    os.umask(0o077)  # what kgrec writes (splits, models, the server's data) is private
    try:
        return int(args.func(args))
    except ERRORS as error:
        print(f"kgrec: {error}", file=sys.stderr)
        return 2
    except pydantic.ValidationError as error:
        print(f"kgrec: invalid setting: {error}", file=sys.stderr)
        return 2
    except neo4j.exceptions.Neo4jError as error:
        print(f"kgrec: Neo4j refused the request: {error}", file=sys.stderr)
        return 2
    except neo4j.exceptions.DriverError as error:
        print(f"kgrec: cannot reach Neo4j: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
