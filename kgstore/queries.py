"""Cypher statements, one per ``.cypher`` file in the ``cypher`` package, loaded by name.

Values always travel as ``$parameters``. The only text ever substituted is a label,
relationship type (or ``|``-joined types) or vector property, written
``{{label}}``/``{{type}}``/``{{types}}``/``{{property}}`` in the file, and each is checked
against :mod:`kgstore.vocabulary` first.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from kgstore.vocabulary import check_label, check_relationship_type, check_vector_property

_SLOT = re.compile(r"\{\{(\w+)\}\}")


def _check_types(value: str) -> str:
    """``A|B|C``: several relationship types, each from the allow-list."""
    for part in value.split("|"):
        check_relationship_type(part)
    return value


_CHECKS = {
    "label": check_label,
    "head": check_label,
    "tail": check_label,
    "type": check_relationship_type,
    "types": _check_types,
    "property": check_vector_property,
}


@cache
def load(name: str) -> str:
    """The text of ``cypher/<name>.cypher`` (e.g. ``"load/upsert_nodes"``)."""
    folder, _, stem = name.rpartition("/")
    package = "cypher" + ("." + folder.replace("/", ".") if folder else "")
    try:
        text = (resources.files(package) / f"{stem}.cypher").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise KeyError(f"no Cypher statement named {name!r}") from error
    return text.strip()


def slots(name: str) -> set[str]:
    """The placeholders a statement needs."""
    return set(_SLOT.findall(load(name)))


def render(name: str, **identifiers: str) -> str:
    """The statement with its identifier slots filled from the allow-list.

    Raises:
        VocabularyError: an identifier outside the allow-list.
        KeyError: a missing or unexpected slot.
    """
    needed = slots(name)
    if needed != set(identifiers):
        raise KeyError(f"{name} needs identifiers {sorted(needed)}, got {sorted(identifiers)}")
    for slot, value in identifiers.items():
        _CHECKS[slot](value)
    return _SLOT.sub(lambda match: identifiers[match.group(1)], load(name))
