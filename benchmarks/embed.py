"""Embedding throughput: texts/s of the packaged model, and Neo4j vector writes/s.

Usage:
    python benchmarks/embed.py [--dataset amazon-kg-books] [--texts 3000]

The dataset is ingested into a scratch namespace (dropped afterwards); its real item texts
(title + named attributes, as ``kgrec embed`` builds them) are embedded with 1 and 2 CPU
threads, then every item's vector is written with the same code ``kgrec embed`` uses.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from kgstore.connection import open_driver
from kgstore.datasets import load_dataset
from kgstore.embeddings import read_texts, write_vectors
from kgstore.graph import Database
from kgstore.ingest import Ingestor
from kgstore.node_text import text_hash
from kgstore.settings import Neo4jSettings, data_dir
from learners.semantics import SentenceTransformerEmbedder
from recommender.config import KgrecSettings
from recommender.util.machine import machine

NAMESPACE = "bench-embed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="amazon-kg-books")
    parser.add_argument("--texts", type=int, default=3000, help="texts embedded per setting")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "none"
    print(
        f"machine: {machine()}; GPU: {gpu}; torch {torch.__version__}; "
        f"Python {platform.python_version()}"
    )

    settings = Neo4jSettings.from_env()
    with open_driver(settings) as driver:
        db, defaults = Database(driver, settings.database), KgrecSettings()
        graph = db.graph(NAMESPACE)
        ingestor = Ingestor(
            db,
            Path(tempfile.mkdtemp()),
            defaults.embedding_dim,
            defaults.persona_dim,
            progress=False,
        )
        ingestor.drop(NAMESPACE)
        ingestor.ingest(load_dataset(data_dir() / args.dataset, name=NAMESPACE))
        nodes = [n for n in read_texts(graph) if n.label == "Item" and n.text]
        texts = [n.text or "" for n in nodes][: args.texts]
        mean_chars = np.mean([len(t) for t in texts])
        print(f"{len(texts):,} {args.dataset} item texts, {mean_chars:.0f} characters on average")
        print("| model | device | threads | texts/s |")
        print("| --- | --- | ---: | ---: |")
        vectors = None
        for threads in (1, 2):
            embedder = SentenceTransformerEmbedder(num_threads=threads, device=device)
            embedder.embed(texts[:64])  # warm-up
            started = time.perf_counter()
            vectors = embedder.embed(texts)
            rate = len(texts) / (time.perf_counter() - started)
            print(f"| {embedder.name} | {device} | {threads} | {rate:,.0f} |", flush=True)

        assert vectors is not None
        rng = np.random.default_rng(0)
        all_vectors = rng.standard_normal((len(nodes), vectors.shape[1])).astype(np.float32)
        all_vectors /= np.linalg.norm(all_vectors, axis=1, keepdims=True)
        print("| vectors written | dimension | batch | vectors/s |")
        print("| ---: | ---: | ---: | ---: |")
        for batch in (100, 500, 2000):
            started = time.perf_counter()
            write_vectors(
                graph,
                "Item",
                [n.id for n in nodes],
                all_vectors,
                [text_hash("bench", n.text or "") for n in nodes],
                "bench",
                batch_size=batch,
                progress=False,
            )
            rate = len(nodes) / (time.perf_counter() - started)
            print(
                f"| {len(nodes):,} | {all_vectors.shape[1]} | {batch} | {rate:,.0f} |", flush=True
            )
        ingestor.drop(NAMESPACE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
