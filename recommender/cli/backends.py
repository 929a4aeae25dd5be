"""The language-model backends the commands use, chosen from options and settings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgstore.settings import kgrec_home
from learners.semantics.embedders import Embedder, EmbeddingError
from learners.semantics.generators import GenerationError, Generator
from recommender.cli import common

if TYPE_CHECKING:
    from recommender.experiments.session_graphs import IntentSource


def make_embedder(args: argparse.Namespace) -> Embedder:
    """The configured embedding backend: an endpoint, a model directory, or the packaged one."""
    from learners.semantics import OpenAIEmbedder, SentenceTransformerEmbedder

    settings = common.settings()
    endpoint = args.endpoint or settings.embed_endpoint
    if endpoint:
        model = args.endpoint_model or settings.embed_endpoint_model
        if not model:
            raise EmbeddingError(
                "an endpoint needs --endpoint-model (or KGREC_EMBED_ENDPOINT_MODEL)"
            )
        return OpenAIEmbedder(endpoint, model, query_instruction=args.query_instruction)
    return SentenceTransformerEmbedder(
        args.model or settings.embed_model or None,
        num_threads=args.threads,
        query_instruction=args.query_instruction,
    )


def make_generator(args: argparse.Namespace) -> Generator:
    """The configured text generator (endpoint, local model, or the packaged SmolLM2), cached
    under ``KGREC_HOME/cache`` so a re-run costs nothing."""
    from learners.semantics.generators import (
        CachedGenerator,
        OpenAIChatGenerator,
        TransformersGenerator,
    )

    settings = common.settings()
    endpoint = args.chat_endpoint or settings.chat_endpoint
    inner: Generator
    if endpoint:
        model = args.chat_model or settings.chat_model
        if not model:
            raise GenerationError("a chat endpoint needs --chat-model (or KGREC_CHAT_MODEL)")
        concurrency = args.chat_concurrency or settings.chat_concurrency
        inner = OpenAIChatGenerator(endpoint, model, concurrency=concurrency)
    else:
        inner = TransformersGenerator(
            args.generator or settings.generator_model or None, num_threads=args.threads
        )
    return CachedGenerator(inner, kgrec_home() / "cache" / "generations.sqlite")


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


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_generator_backend(p: argparse.ArgumentParser) -> None:
    """The options that choose the text generator (see :func:`make_generator`)."""
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
    p.add_argument(
        "--chat-concurrency",
        type=at_least_one,
        metavar="N",
        help="requests in flight at once at the chat endpoint, which batches them on its GPU "
        "(default: KGREC_CHAT_CONCURRENCY, else 8)",
    )


def add_generator_options(p: argparse.ArgumentParser) -> None:
    """The generator's options and those of the commands that generate per node."""
    add_generator_backend(p)
    p.add_argument("--limit", type=int, help="at most this many (default: all)")
    p.add_argument("--force", action="store_true", help="redo those already done")
    common.add_quiet(p)


def intent_source(
    args: argparse.Namespace, titles: dict[str, str | None], items: Any, folder: Path
) -> IntentSource:
    """The titles and backends LLM-DMsRec rows infer intents with."""
    from recommender.experiments.session_graphs import IntentSource
    from recommender.pipelines.intents import title_list

    return IntentSource(
        title_list(titles, list(items)), make_generator(args), make_embedder(args), folder
    )


def backend_options(args: argparse.Namespace) -> str:
    """The generation and embedding options of the command, as given."""
    pairs = (
        ("--generator", args.generator), ("--chat-endpoint", args.chat_endpoint),
        ("--chat-model", args.chat_model), ("--model", args.model),
        ("--endpoint", args.endpoint), ("--endpoint-model", args.endpoint_model),
    )  # fmt: skip
    return "".join(f" {flag} {value}" for flag, value in pairs if value)
