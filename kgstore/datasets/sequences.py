"""Plain sequence files: one line per user, ``user item item ...`` in chronological order,
optionally with ``<name>_item2attributes.json`` (item -> list of anonymous attribute ids)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from kgstore.datasets.canonical import CanonicalDataset, DatasetError
from kgstore.datasets.reader import check_id, read_rows, read_text
from kgstore.datasets.split import leave_one_out
from kgstore.vocabulary import Label


def _read_sequences(path: Path) -> pd.DataFrame:
    records = []
    seen_users: dict[str, int] = {}
    position = 0
    for number, fields in read_rows(path, sep=" ", min_fields=2):
        user = check_id(fields[0], path, number, "user")
        if user in seen_users:
            raise DatasetError(
                path, number, f"user {user!r} already has a line ({seen_users[user]})"
            )
        seen_users[user] = number
        for item in fields[1:]:
            records.append((user, check_id(item, path, number, "item"), position))
            position += 1
    if not records:
        raise DatasetError(path, None, "no sequences")
    frame = pd.DataFrame(records, columns=["user", "item", "position"])
    frame["rating"] = float("nan")
    frame["timestamp"] = float("nan")
    return frame


def _read_attributes(path: Path) -> list[tuple[str, str]]:
    text = read_text(path)
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as error:
        raise DatasetError(path, error.lineno, f"invalid JSON ({error.msg})") from error
    if not isinstance(mapping, dict):
        raise DatasetError(path, 1, "expected an object mapping item ids to attribute lists")
    pairs = []
    for item, attributes in mapping.items():
        if not isinstance(attributes, list) or not all(
            isinstance(a, int | str) and not isinstance(a, bool) for a in attributes
        ):
            raise DatasetError(path, None, f"item {item!r}: attributes must be a list of ids")
        check_id(str(item), path, 1, "item")
        pairs += [(str(item), str(attribute)) for attribute in attributes]
    return pairs


def load_sequences(path: Path, name: str | None = None) -> CanonicalDataset:
    """``path`` is the folder holding ``<Name>.txt`` (one file) or that file itself."""
    path = Path(path)
    if path.is_dir():
        candidates = sorted(p for p in path.glob("*.txt"))
        if len(candidates) != 1:
            raise DatasetError(
                path, None, f"expected one sequence .txt file, found {len(candidates)}"
            )
        path = candidates[0]
    name = name or path.stem.lower()
    interactions = _read_sequences(path)
    attributes_file = path.with_name(f"{path.stem}_item2attributes.json")
    pairs = _read_attributes(attributes_file) if attributes_file.exists() else []
    notes = ["no timestamps: file order is the chronological order"]

    triples = pd.DataFrame(pairs, columns=["head", "tail"]).drop_duplicates()
    if len(triples) != len(pairs):
        notes.append(f"{len(pairs) - len(triples)} duplicate item attributes collapsed")
    triples = triples.assign(
        head_label=Label.ITEM.value, type="HAS_ATTRIBUTE", tail_label=Label.ATTRIBUTE.value
    )[["head", "head_label", "type", "tail", "tail_label"]].reset_index(drop=True)
    item_ids = sorted(set(interactions["item"]) | set(triples["head"]))
    attribute_only = len(set(triples["head"]) - set(interactions["item"]))
    if attribute_only:
        notes.append(f"{attribute_only} items have attributes but no interactions (kept)")
    entity_ids = sorted(set(triples["tail"]))
    return CanonicalDataset(
        name=name,
        interactions=leave_one_out(interactions),
        users=pd.DataFrame({"id": sorted(set(interactions["user"]))}),
        items=pd.DataFrame({"id": item_ids, "title": None}),
        entities=pd.DataFrame({"id": entity_ids, "label": Label.ATTRIBUTE.value, "name": None}),
        triples=triples,
        notes=notes,
    )
