"""Read-only explanation queries from ``cypher/explain``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from kgstore.embeddings import widen
from kgstore.graph import Graph
from kgstore.vocabulary import GENERATED_PREFIX, RELATIONSHIP_TYPES, readable_relation


@dataclass(frozen=True)
class NeighbourhoodItem:
    item: str
    title: str | None
    rating: float | None
    attributes: list[dict[str, Any]]


def user_neighbourhood(
    graph: Graph,
    user: str,
    max_items: int = 20,
    max_attributes: int = 10,
) -> list[NeighbourhoodItem]:
    """The user's training items (most recent first) and each item's attributes/entities."""
    records = graph.read(
        "explain/user_neighbourhood", user=user, max_items=max_items, max_attributes=max_attributes
    )
    return [
        NeighbourhoodItem(r["item"], r["title"], r["rating"], list(r["attributes"]))
        for r in records
    ]


def describe(attribute: dict[str, Any]) -> str:
    """``Genre: Comedy``; an entity without a name says how it relates, never its id:
    ``unnamed entity (film directed by)``."""
    if attribute.get("name"):
        return f"{attribute['label']}: {attribute['name']}"
    relations = attribute.get("relations") or []
    how = "/".join(readable_relation(r) for r in relations)
    return f"unnamed {attribute['label'].lower()}" + (f" ({how})" if how else "")


def format_neighbourhood(user: str, items: list[NeighbourhoodItem], top: int = 8) -> str:
    """Readable text: the attributes the user's items share most, then the items."""
    if not items:
        return f"user {user}: no training interactions in the graph"
    shared: Counter[tuple[str, str]] = Counter()  # (text, entity id): unnamed ones differ
    for entry in items:
        shared.update({(describe(a), str(a["id"])) for a in entry.attributes})
    lines = [f"user {user}: {len(items)} recent training items"]
    if shared:
        lines.append("  most shared attributes:")
        # Most shared first; ties by name, so the text is the same on every run.
        ranked = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        lines += [f"    {name}  (x{count})" for (name, _), count in ranked]
    lines.append("  items:")
    for entry in items:
        title = entry.title or "(no title)"
        rating = f"  rating {entry.rating:g}" if entry.rating is not None else ""
        names = ", ".join(describe(a) for a in entry.attributes[:4])
        lines.append(f"    {entry.item}  {title}{rating}" + (f"  [{names}]" if names else ""))
    return "\n".join(lines)


@dataclass(frozen=True)
class GraphPath:
    nodes: list[dict[str, Any]]
    types: list[str]

    def text(self) -> str:
        """``user 1 -INTERACTED-> Item: Heat -HAS_GENRE-> Genre: Crime <-HAS_GENRE- ...``"""
        parts = [_node_text(self.nodes[0])]
        for rel, node in zip(self.types, self.nodes[1:], strict=True):
            parts.append(f"-{rel}- {_node_text(node)}")
        return " ".join(parts)


def user_item_paths(graph: Graph, user: str, item: str, k: int = 5) -> list[GraphPath]:
    """Shortest KG paths (up to 4 hops) connecting ``user`` to ``item``."""
    records = graph.read("explain/user_item_paths", user=user, item=item, k=k)
    return [GraphPath(list(r["nodes"]), list(r["types"])) for r in records]


def _node_text(node: dict[str, Any]) -> str:
    if node["label"] == "User":
        return f"user {node['id']}"
    name = node.get("name")
    return f"{node['label']}: {name}" if name else f"{node['label']} (unnamed)"


def item_link_types(graph: Graph) -> str:
    """The relationship types that can link the dataset's items to items or attributes, as
    a type list: kgrec's own (:data:`ITEM_LINKS`) and the dataset's generated ones. They
    change only with the graph, so a caller reads them once."""
    own = graph.read("explain/relation_types")
    generated = [t for t in (own[0]["types"] if own else []) if t.startswith(GENERATED_PREFIX)]
    return "|".join([ITEM_LINKS, *sorted(generated)])


def session_evidence(
    graph: Graph,
    items: list[str],
    session: list[str],
    link_types: str,
    max_paths: int = 40,
) -> dict[str, list[GraphPath]]:
    """Per item, KG paths to the session's items along ``link_types`` (see
    :func:`item_link_types`): direct relations first, then shared named attributes, then
    shared unnamed entities."""
    records = graph.read(
        "explain/session_evidence",
        {"types": link_types},
        items=items,
        session=session,
        max_paths=max_paths,
    )
    found = {
        r["item"]: [GraphPath(list(p["nodes"]), list(p["types"])) for p in r["paths"]]
        for r in records
    }
    return {item: found.get(item, []) for item in items}


# Every relationship type of kgrec's own that can link an item to another item or an
# attribute; a dataset's generated types (REL_*) are added per dataset.
ITEM_LINKS = "|".join(sorted(RELATIONSHIP_TYPES - {"INTERACTED"}))


@dataclass(frozen=True)
class PersonaSupport:
    users: list[str]  # nearest users by persona who chose the item
    neighbours: int  # how many nearest users were asked


def persona_support(
    graph: Graph,
    index: str,
    persona: list[float],
    items: list[str],
    neighbours: int = 20,
    exclude: list[str] | None = None,
) -> dict[str, PersonaSupport]:
    """Per item, which of the ``neighbours`` users nearest to ``persona`` chose it.

    The vector index spans every dataset in the database, so the search is widened until
    it finds ``neighbours`` users of ``dataset`` (or every user there is).
    """

    def search(candidates: int) -> tuple[dict[str, PersonaSupport], bool]:
        records = graph.read(
            "explain/persona_support",
            index=index,
            persona=persona,
            items=items,
            neighbours=neighbours,
            candidates=candidates,
            exclude=exclude or [],
        )
        found = {r["item"]: PersonaSupport(list(r["users"]), int(r["neighbours"])) for r in records}
        exhausted = any(r["fetched"] < candidates for r in records)
        return found, exhausted or all(s.neighbours >= neighbours for s in found.values())

    return widen(search, max(20 * neighbours, 200))


@dataclass(frozen=True)
class ItemDetails:
    item: str
    title: str | None
    description: str | None
    interactions: int
    attributes: list[dict[str, Any]]


def item_details(graph: Graph, item: str, max_attributes: int = 20) -> ItemDetails | None:
    """One item's text, training interaction count and neighbours; None if not in the graph."""
    records = graph.read("explain/item", item=item, max_attributes=max_attributes)
    if not records:
        return None
    r = records[0]
    return ItemDetails(
        r["item"], r["title"], r["description"], int(r["interactions"]), list(r["attributes"])
    )


@dataclass(frozen=True)
class UserPersona:
    user: str
    persona: list[float] | None
    version: str | None
    model: str | None
    updated_at: str | None
    interactions: int


def user_persona(graph: Graph, user: str) -> UserPersona | None:
    """One user's persona and its provenance; None if the user is not in the graph."""
    records = graph.read("explain/user_persona", user=user)
    if not records:
        return None
    r = records[0]
    persona = None if r["persona"] is None else [float(x) for x in r["persona"]]
    return UserPersona(
        r["user"], persona, r["version"], r["model"], r["updated_at"], int(r["interactions"])
    )


def item_titles(graph: Graph) -> dict[str, str | None]:
    """Every item's title (None where it has none), by item id."""
    records = graph.read("explain/item_titles")
    return {item: title for item, title in records[0]["items"]}
