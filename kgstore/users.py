"""Users whose interactions arrive after ingestion: written to the graph, and their items
read back for an inductive persona."""

from __future__ import annotations

from collections.abc import Sequence

from kgstore.export import bump_version
from kgstore.graph import Graph


class UserError(ValueError):
    """A new user's interactions cannot be written as given."""


def add_user(graph: Graph, user: str, items: Sequence[str]) -> int:
    """Write ``user`` (created when new) with an INTERACTED edge to each of ``items``, in
    the order given, and give the dataset a new graph version; the number of edges written.

    Raises:
        UserError: a bad id, no items, or items the dataset does not have (nothing is
            written then).
    """
    if not user or user != user.strip() or any(ch.isspace() for ch in user):
        raise UserError(f"bad user id {user!r}")
    if not items:
        raise UserError(f"user {user!r} needs at least one item")
    missing = graph.read("export/missing_items", items=list(dict.fromkeys(items)))
    unknown = missing[0]["missing"] if missing else []
    if unknown:
        raise UserError(f"items not in {graph.dataset!r}: {', '.join(map(str, unknown[:10]))}")
    edges = graph.write("load/add_user", user=user, items=list(items))
    bump_version(graph)
    return int(edges[0]["edges"]) if edges else 0


def user_items(graph: Graph, users: Sequence[str]) -> dict[str, list[str]]:
    """The items each of ``users`` interacted with, each once (as HDGI's graph has one edge
    per user and item); users not in the graph are left out."""
    records = graph.read("export/user_items", users=list(users))
    return {str(r["user"]): sorted(set(map(str, r["items"]))) for r in records}
