"""Why an item was recommended, from the knowledge graph: paths to the session's items and
the persona's nearest users who chose it."""

from __future__ import annotations

import dataclasses

import numpy as np

from kgstore.embeddings import index_name
from kgstore.explain import GraphPath, persona_support, session_evidence
from kgstore.graph import Graph
from kgstore.node_text import readable_title
from kgstore.vocabulary import Label, readable_relation
from recommender.serving.types import Explanation, PersonaSource, Recommendation


def explain(
    graph: Graph,
    titles: dict[str, str | None],
    results: list[Recommendation],
    session: list[str],
    persona: np.ndarray,
    user_id: str | None,
    source: PersonaSource,
    neighbours: int,
    link_types: str,
) -> list[Recommendation]:
    """``results`` with their explanations: the graph paths to the session's items along
    ``link_types`` (:func:`~kgstore.explain.item_link_types`), and how many of the
    ``neighbours`` users nearest to the persona chose each item."""
    items = [r.item for r in results]
    evidence = session_evidence(graph, items, list(dict.fromkeys(session)), link_types)
    support = {}
    if source != "none" and np.linalg.norm(persona) > 0:
        support = persona_support(
            graph,
            index_name(Label.USER, "persona"),
            [float(x) for x in persona],
            items,
            neighbours=neighbours,
            exclude=[user_id] if user_id else [],
        )
    whose = "your persona" if source == "user" else "this session's persona"
    explained = []
    for result in results:
        paths = evidence.get(result.item, [])
        lines = evidence_lines(paths, titles)
        found = support.get(result.item)
        parts = list(lines[:3])
        if found is not None and found.neighbours:
            parts.append(
                f"{len(found.users)} of the {found.neighbours} users nearest {whose} chose it"
            )
        if result.cold:
            parts.append("a new item (no interactions yet), found through its description")
        text = "; ".join(parts) if parts else "ranked by the session's sequence alone"
        explanation = Explanation(
            text, lines, found.users if found else [], found.neighbours if found else 0, paths
        )
        explained.append(dataclasses.replace(result, explanation=explanation))
    return explained


def evidence_lines(paths: list[GraphPath], titles: dict[str, str | None]) -> list[str]:
    """Readable evidence, strongest first: direct relations (``film sequel: The Godfather``),
    then named attributes shared with the most session items (``Genre: Sci-Fi, shared with
    Star Wars and Alien``), then entities without a name, phrased by their relation and never
    by their id (``same film country as Star Wars and Alien``)."""
    direct: list[str] = []
    # (named, the entity's identity) -> (how the line begins, the session items it links)
    shared: dict[tuple[bool, str], tuple[str, list[str]]] = {}
    for path in paths:
        end = path.nodes[-1]
        name = readable_title(titles.get(end["id"]) or end["id"])
        if len(path.nodes) == 2:
            line = f"{readable_relation(path.types[0])}: {name}"
            if line not in direct:
                direct.append(line)
            continue
        middle = path.nodes[1]
        named = bool(middle.get("name"))
        identity = f"{middle['label']}#{middle['id']}#{path.types[0]}"
        begins = f"{middle['label']}: {middle['name']}, shared with" if named else (
            f"same {readable_relation(path.types[0])} as"
        )  # fmt: skip
        _, names = shared.setdefault((named, identity), (begins, []))
        if name not in names:
            names.append(name)
    ordered = sorted(shared.items(), key=lambda kv: (not kv[0][0], -len(kv[1][1])))
    lines = list(direct)
    for _, (begins, names) in ordered:
        listed = " and ".join([", ".join(names[:2]), names[2]] if len(names) > 2 else names)
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        lines.append(f"{begins} {listed}{more}")
    return lines
