"""Pictures people would rather look at than read: the trained recommender's evaluation as
bars, and a persona's neighbourhood in the graph as a small network drawing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt
import networkx as nx

from kgstore.node_text import readable_title
from kgstore.personas import PersonaNeighbour

METRICS = ("HR@10", "NDCG@10", "HR@100", "NDCG@100")


def evaluation_chart(evaluation: Mapping[str, Mapping[str, float]], title: str, path: Path) -> Path:
    """Grouped bars: each model's test metrics (``evaluation[model][metric]``)."""
    models = list(evaluation)
    fig, ax = plt.subplots(figsize=(8, 4.2), constrained_layout=True)
    width = 0.8 / max(len(models), 1)
    for m, model in enumerate(models):
        values = [evaluation[model].get(metric, 0.0) for metric in METRICS]
        xs = [k + (m - (len(models) - 1) / 2) * width for k in range(len(METRICS))]
        bars = ax.bar(xs, values, width, label=model)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    ax.set_xticks(range(len(METRICS)), METRICS)
    ax.set_ylabel("test score (higher is better)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def persona_graph(user: str, nearest: Sequence[PersonaNeighbour], path: Path, dataset: str) -> Path:
    """The user, the users nearest by persona (edge width = cosine similarity), and the
    items and attributes they share with the user."""
    graph = nx.Graph()
    me = f"user {user}"
    graph.add_node(me, kind="me")
    for neighbour in nearest:
        other = f"user {neighbour.user}"
        graph.add_node(other, kind="user")
        graph.add_edge(me, other, weight=neighbour.score, kind="persona")
        for shared in [*neighbour.shared_attributes[:3], *neighbour.shared_items[:2]]:
            kind = "attribute" if shared in neighbour.shared_attributes else "item"
            node = _short(readable_title(str(shared)) if kind == "item" else str(shared))
            graph.add_node(node, kind=kind)
            graph.add_edge(other, node, weight=0.3, kind="shares")
            graph.add_edge(me, node, weight=0.3, kind="shares")
    colours = {"me": "#d62728", "user": "#1f77b4", "attribute": "#2ca02c", "item": "#ff7f0e"}
    layout = nx.spring_layout(graph, seed=0, k=0.9)
    fig, ax = plt.subplots(figsize=(9, 7), constrained_layout=True)
    persona_edges = [(a, b) for a, b, d in graph.edges(data=True) if d["kind"] == "persona"]
    nx.draw_networkx_edges(
        graph,
        layout,
        edgelist=persona_edges,
        width=[1 + 4 * max(graph[a][b]["weight"], 0) for a, b in persona_edges],
        edge_color="#1f77b4",
        ax=ax,
    )
    nx.draw_networkx_edges(
        graph,
        layout,
        edgelist=[e for e in graph.edges if e not in persona_edges],
        style="dotted",
        edge_color="#999999",
        ax=ax,
    )
    for kind, colour in colours.items():
        nodes = [n for n, d in graph.nodes(data=True) if d["kind"] == kind]
        nx.draw_networkx_nodes(
            graph, layout, nodelist=nodes, node_color=colour, node_size=500, alpha=0.85, ax=ax
        )
    nx.draw_networkx_labels(graph, layout, font_size=7, ax=ax)
    ax.set_title(
        f"{dataset}: the users nearest to user {user} by persona\n"
        "blue: users (edge width = cosine similarity); what they share with user "
        f"{user}: green = attributes, orange = items",
        fontsize=9,
    )
    ax.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
