"""The text each node is embedded from (as the paper initialises nodes and relations).

Items: readable title, then the LLM-written description if there is one, then up to
``MAX_PER_KIND`` names of each kind of attribute, e.g.
``The Godfather. <description> Genres: Action, Crime, Drama.``
Attribute/entity nodes and ``Relation`` nodes: their readable name. Nodes without any text
(users, anonymous attributes, unnamed Freebase entities) get no text and no vector.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_PER_KIND = 12
ATTRIBUTE_KINDS = {
    "Genre": "Genres",
    "Category": "Categories",
    "Resource": "Related",
    "Attribute": "Attributes",
}
_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|Les|La|Le|Il|Das|Der|Die|El)$")


def readable_title(title: str) -> str:
    """``Godfather, The`` -> ``The Godfather`` (MovieLens writes articles last)."""
    title = " ".join(title.split())
    match = _ARTICLE.match(title)
    return f"{match['article']} {match['rest']}" if match else title


def item_text(
    title: str | None, description: str | None, attributes: Iterable[tuple[str, str]]
) -> str | None:
    """The item's text, or ``None`` when it has nothing readable."""
    parts: list[str] = []
    if title and title.strip():
        text = readable_title(title)
        parts.append(text if text.endswith((".", "!", "?")) else text + ".")
    if description and description.strip():
        parts.append(" ".join(description.split()))
    by_kind: dict[str, list[str]] = {}
    for label, name in attributes:
        if label in ATTRIBUTE_KINDS and name and name.strip():
            names = by_kind.setdefault(label, [])
            if name not in names and len(names) < MAX_PER_KIND:
                names.append(name.strip())
    for label, heading in ATTRIBUTE_KINDS.items():
        if by_kind.get(label):
            parts.append(f"{heading}: {', '.join(by_kind[label])}.")
    return " ".join(parts) or None


def name_text(name: str | None) -> str | None:
    return " ".join(name.split()) if name and name.strip() else None


def text_hash(model: str, text: str) -> str:
    """What a stored vector was computed from; a new model or text means a new hash."""
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()[:32]
