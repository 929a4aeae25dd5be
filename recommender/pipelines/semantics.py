"""Put text embeddings on the graph's nodes: read texts, embed what changed, write back."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from kgstore.embeddings import (
    NodeText,
    check_dimension,
    items_to_describe,
    read_item_rows,
    read_texts,
    user_histories,
    write_descriptions,
    write_llm_personas,
    write_vectors,
)
from kgstore.export import bump_version
from kgstore.graph import Graph
from kgstore.node_text import item_text, readable_title, text_hash
from kgstore.schema import EMBEDDED_LABELS, apply_schema, drop_vector_index
from learners.semantics import Embedder, EmbeddingError
from learners.semantics.generators import Generator
from learners.semantics.prompts import item_description_prompt, user_preferences_prompt

CHUNK = 2_048  # texts embedded, then written, at a time: a failure loses at most one chunk


@dataclass
class EmbedReport:
    model: str
    dimension: int
    nodes: Counter[str] = field(default_factory=Counter)
    without_text: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    embedded: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"model {self.model} ({self.dimension} dimensions)"]
        for label in sorted(self.nodes):
            out.append(
                f"  {label:<10} {self.nodes[label]:>7,} nodes  {self.embedded[label]:>7,} embedded"
                f"  {self.unchanged[label]:>7,} unchanged  {self.without_text[label]:>7,} no text"
            )
        total = sum(self.embedded.values())
        rate = f", {total / self.seconds:,.0f} texts/s" if total and self.seconds else ""
        out.append(f"  {total:,} embedded in {self.seconds:.1f}s{rate}")
        return out


def embed_dataset(
    graph: Graph,
    embedder: Embedder,
    persona_dim: int,
    force: bool = False,
    reindex: bool = False,
    progress: bool = True,
) -> EmbedReport:
    """Embed every node of the dataset whose text or model changed since its last vector.

    Raises:
        EmbeddingError: the dataset is not in the graph, or the model fails.
        SchemaError: an index has another dimension than the model (use ``reindex``).
    """
    if reindex:
        for label in EMBEDDED_LABELS:
            drop_vector_index(graph, label, "embedding")
    else:
        check_dimension(graph, embedder.dimension)
    apply_schema(graph, embedder.dimension, persona_dim)
    texts = read_texts(graph)
    if not texts:
        raise EmbeddingError(
            f"dataset {graph.dataset!r} has no items in the graph; ingest it first"
        )
    report = EmbedReport(embedder.name, embedder.dimension)
    todo: list[tuple[NodeText, str]] = []
    for node in texts:
        report.nodes[node.label] += 1
        if node.text is None:
            report.without_text[node.label] += 1
            continue
        digest = text_hash(embedder.name, node.text)
        if not force and node.model == embedder.name and node.hash == digest:
            report.unchanged[node.label] += 1
        else:
            todo.append((node, digest))
    started = time.perf_counter()
    with tqdm(total=len(todo), desc="embed", unit="text", disable=not progress) as bar:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            vectors = embedder.embed([node.text or "" for node, _ in chunk])
            _write_by_label(graph, embedder.name, chunk, vectors)
            for node, _ in chunk:
                report.embedded[node.label] += 1
            bar.update(len(chunk))
    report.seconds = time.perf_counter() - started
    if todo:
        bump_version(graph)
    return report


def _write_by_label(
    graph: Graph,
    model: str,
    chunk: list[tuple[NodeText, str]],
    vectors: np.ndarray,
) -> None:
    by_label: dict[str, list[int]] = {}
    for index, (node, _) in enumerate(chunk):
        by_label.setdefault(node.label, []).append(index)
    for label, rows in by_label.items():
        write_vectors(
            graph,
            label,
            [chunk[i][0].id for i in rows],
            vectors[rows],
            [chunk[i][1] for i in rows],
            model,
            progress=False,
        )


def describe_items(
    graph: Graph,
    generator: Generator,
    kind: str = "Movie and TV",
    limit: int | None = None,
    force: bool = False,
    max_new_tokens: int = 96,
    progress: bool = True,
) -> int:
    """Write an LLM description on items that have a title (and no description yet).

    The next ``embed_dataset`` re-embeds exactly those items, since their text changed.
    Descriptions are written in small batches, so an interruption keeps what was done.
    """
    todo = items_to_describe(graph, limit, force)
    done: list[tuple[str, str]] = []
    for item, title in tqdm(todo, desc="describe", unit="item", disable=not progress):
        text = generator.generate(
            item_description_prompt(readable_title(title), kind), max_new_tokens
        )
        if text:
            done.append((item, text))
        if len(done) >= 20:
            write_descriptions(graph, generator.name, done)
            done = []
    if done:
        write_descriptions(graph, generator.name, done)
    return len(todo)


def llm_personas(
    graph: Graph,
    generator: Generator,
    embedder: Embedder,
    max_history: int = 20,
    limit: int | None = None,
    force: bool = False,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    progress: bool = True,
) -> int:
    """The "LLM" user representation of the method: preference keywords generated from the
    user's training items, embedded, stored as ``User.llm_persona`` (with the keywords)."""
    items = {
        row["id"]: item_text(row["title"], None, [tuple(a) for a in row["attributes"]]) or row["id"]
        for row in read_item_rows(graph)
    }
    histories = [
        (user, history)
        for user, history, model in user_histories(graph, max_history)
        if force or model != generator.name
    ][:limit]
    bar = tqdm(total=len(histories), desc="llm persona", unit="user", disable=not progress)
    for start in range(0, len(histories), batch_size):
        batch = histories[start : start + batch_size]
        prompts = [user_preferences_prompt([items[i] for i in history]) for _, history in batch]
        keywords = generator.generate_many(prompts, max_new_tokens)
        # Stored batch by batch: an interrupted run keeps what it has (and the cache the rest).
        _store_personas(
            graph,
            generator,
            embedder,
            [user for user, _ in batch],
            [text or "unknown preferences" for text in keywords],
        )
        bar.update(len(batch))
    bar.close()
    return len(histories)


def _store_personas(
    graph: Graph,
    generator: Generator,
    embedder: Embedder,
    users: list[str],
    texts: list[str],
) -> None:
    vectors = embedder.embed(texts)
    write_llm_personas(graph, generator.name, users, texts, vectors)
