"""Names for KG entities that come without one (Freebase ``m.`` ids, anonymous attribute
ids), from a file the user supplies: explanations then say the name, not the relation."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from kgstore.datasets.canonical import CanonicalDataset, DatasetError
from kgstore.datasets.reader import read_rows


def read_names(path: Path) -> dict[str, str]:
    """``id -> name`` from a file whose header is ``id`` and ``name``, separated by a tab or
    a comma (CSV quoting allowed for commas). An id listed twice, or an empty id or name,
    is an error naming the line."""
    rows = read_rows(path, sep="\t")
    first = next(rows, None)
    if first is None:
        raise DatasetError(path, 1, "empty file (a header 'id<TAB>name' or 'id,name' is needed)")
    number, fields = first
    comma = len(fields) == 1
    header = next(csv.reader([fields[0]])) if comma else fields
    if [h.strip().lower() for h in header] != ["id", "name"]:
        raise DatasetError(path, number, "expected the header 'id<TAB>name' or 'id,name'")
    names: dict[str, str] = {}
    for number, fields in rows:
        parts = next(csv.reader([fields[0]])) if comma else fields
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise DatasetError(path, number, "expected an id and a name")
        key, name = parts[0].strip(), parts[1].strip()
        if key in names:
            raise DatasetError(path, number, f"id {key!r} is named twice")
        names[key] = name
    return names


def with_names(data: CanonicalDataset, names: dict[str, str]) -> CanonicalDataset:
    """``data`` with its entities named from ``names`` (a supplied name wins); the notes say
    how many were named and how many ids of the file are not entities of the dataset."""
    entities = data.entities.copy()
    supplied = entities["id"].map(names)
    entities["name"] = supplied.where(supplied.notna(), entities["name"]).astype(object)
    unused = len(set(names) - set(entities["id"]))
    note = f"{int(supplied.notna().sum())} entities named from the names file" + (
        f" ({unused} of its ids are not entities of this dataset)" if unused else ""
    )
    return dataclasses.replace(data, entities=entities, notes=[*data.notes, note])
