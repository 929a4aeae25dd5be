"""Throughput of LLM-DMsRec's intent inference (sessions per second) with a generation
backend, on a dataset in the graph: the pre-trained SR-GNN proposes the candidates, the
language model names the intents, the embedder encodes them.

Usage:
    python -m benchmarks.intents --dataset ml-100k [--sessions 64] [--batch-size 16]
        [--generator PATH | --chat-endpoint URL --chat-model NAME [--chat-concurrency 8]]
        [--epochs 1]

Nothing is cached (each prompt is generated afresh), so the figure is the cost of a first
run. SR-GNN trains ``--epochs`` epochs first (its quality changes the candidates, not the
cost). The packaged SmolLM2-135M is the default generator; a GPU is used when present.
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.common import plain_inputs
from kgstore.explain import item_titles
from learners.semantics import SentenceTransformerEmbedder
from learners.semantics.generators import Generator, OpenAIChatGenerator, TransformersGenerator
from learners.sessiongraph import SRGNN
from learners.sessiongraph.train import train_session_model
from recommender.cli.common import graph as open_graph
from recommender.pipelines.intents import infer_intents, title_list
from recommender.util.machine import accelerator, machine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--generator", help="a .gguf file or model directory")
    parser.add_argument("--chat-endpoint")
    parser.add_argument("--chat-model")
    parser.add_argument("--chat-concurrency", type=int, default=8, help="requests in flight")
    args = parser.parse_args()
    print(f"machine: {machine()}; accelerator: {accelerator()}")
    with open_graph(args.dataset) as graph:
        inputs = plain_inputs(graph)
        titles = title_list(item_titles(graph), inputs.data.items)
    data = inputs.data
    sample = range(min(args.sessions, len(data.users)))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    backbone = SRGNN(data.n_items, hidden=64, steps=1, max_len=50)
    train_session_model(
        backbone, data.train, lambda _: 0.0, epochs=args.epochs, batch_size=64, lr=1e-3,
        patience=args.epochs, device=device, progress=False,
    )  # fmt: skip
    backbone.cpu()
    generator: Generator
    if args.chat_endpoint:
        generator = OpenAIChatGenerator(
            args.chat_endpoint, args.chat_model or "", concurrency=args.chat_concurrency
        )
    else:
        generator = TransformersGenerator(args.generator, device=device)
    embedder = SentenceTransformerEmbedder(None)
    started = time.perf_counter()
    found = infer_intents(
        data,
        titles,
        backbone,
        generator,
        embedder,
        batch_size=args.batch_size,
        users=sample,
        progress=False,
    )
    seconds = time.perf_counter() - started
    print(f"\n{args.dataset}: {len(sample)} sessions, batch {args.batch_size}, {generator!r}")
    print(f"{seconds:.1f} s, {len(sample) / seconds:.2f} sessions/s; {found.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
