"""RecBole atomic files: ``.inter .item .user .kg .link`` with ``name:type`` headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kgstore.datasets.canonical import (
    ENTITY_COLUMNS,
    TRIPLE_COLUMNS,
    CanonicalDataset,
    DatasetError,
    concat_frames,
)
from kgstore.datasets.reader import check_id, find_one, parse_float, read_rows
from kgstore.datasets.split import leave_one_out
from kgstore.vocabulary import (
    FREEBASE_RELATIONS,
    Label,
    VocabularyError,
    generated_relationship_type,
    is_reserved_property,
)

_TYPES = {"token", "token_seq", "float", "float_seq"}
GENRE_COLUMNS = ("class", "genre", "genres")


def read_atomic(
    path: Path, required: tuple[str, ...]
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header names (types stripped) and data rows; checks required columns and row width."""
    lines = read_rows(path)
    first = next(lines, None)
    if first is None:
        raise DatasetError(path, 1, "empty file (a header line is required)")
    header_line, header = first
    names: list[str] = []
    for field in header:
        name, _, kind = field.partition(":")
        if kind not in _TYPES:
            raise DatasetError(path, header_line, f"header field {field!r} is not name:type")
        names.append(name)
    missing = [name for name in required if name not in names]
    if missing:
        raise DatasetError(path, header_line, f"missing column(s) {', '.join(missing)}")
    rows = []
    for number, fields in lines:
        if len(fields) != len(names):
            raise DatasetError(path, number, f"expected {len(names)} fields, found {len(fields)}")
        rows.append((number, fields))
    return names, rows


def read_interactions(path: Path) -> pd.DataFrame:
    """``user, item, rating, timestamp, position`` from an ``.inter`` file."""
    names, rows = read_atomic(path, ("user_id", "item_id"))
    user_at, item_at = names.index("user_id"), names.index("item_id")
    rating_at = names.index("rating") if "rating" in names else None
    time_at = names.index("timestamp") if "timestamp" in names else None
    records = []
    for position, (number, fields) in enumerate(rows):
        records.append(
            (
                check_id(fields[user_at], path, number, "user"),
                check_id(fields[item_at], path, number, "item"),
                parse_float(fields[rating_at], path, number, "rating")
                if rating_at is not None
                else float("nan"),
                parse_float(fields[time_at], path, number, "timestamp")
                if time_at is not None
                else float("nan"),
                position,
            )
        )
    if not records:
        raise DatasetError(path, None, "no interactions")
    return pd.DataFrame(records, columns=["user", "item", "rating", "timestamp", "position"])


def read_link(path: Path) -> dict[str, str]:
    """item -> entity; an item or entity linked twice is an error (the merge needs 1:1)."""
    names, rows = read_atomic(path, ("item_id", "entity_id"))
    item_at, entity_at = names.index("item_id"), names.index("entity_id")
    link: dict[str, str] = {}
    seen: dict[str, int] = {}
    for number, fields in rows:
        item = check_id(fields[item_at], path, number, "item")
        entity = check_id(fields[entity_at], path, number, "entity")
        if item in link:
            raise DatasetError(path, number, f"item {item!r} is linked twice")
        if entity in seen:
            raise DatasetError(
                path, number, f"entity {entity!r} already linked on line {seen[entity]}"
            )
        link[item] = entity
        seen[entity] = number
    return link


def _read_items(path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Item rows (``id, title`` + properties) and (item, genre) pairs."""
    names, rows = read_atomic(path, ("item_id",))
    item_at = names.index("item_id")
    title_at = next((i for i, n in enumerate(names) if "title" in n), None)
    genre_at = next((i for i, n in enumerate(names) if n in GENRE_COLUMNS), None)
    extra = [i for i in range(len(names)) if i not in {item_at, title_at, genre_at}]
    _refuse_reserved(path, [names[i] for i in extra])
    records, genres, seen = [], [], set()
    for number, fields in rows:
        item = check_id(fields[item_at], path, number, "item")
        if item in seen:
            raise DatasetError(path, number, f"item {item!r} appears twice")
        seen.add(item)
        record = {"id": item, "title": fields[title_at].strip() if title_at is not None else None}
        record.update({names[i]: fields[i] for i in extra})
        records.append(record)
        if genre_at is not None:
            genres += [(item, genre) for genre in fields[genre_at].split()]
    return pd.DataFrame(records), genres


def _read_users(path: Path) -> pd.DataFrame:
    names, rows = read_atomic(path, ("user_id",))
    user_at = names.index("user_id")
    _refuse_reserved(path, [n for i, n in enumerate(names) if i != user_at])
    records, seen = [], set()
    for number, fields in rows:
        user = check_id(fields[user_at], path, number, "user")
        if user in seen:
            raise DatasetError(path, number, f"user {user!r} appears twice")
        seen.add(user)
        record = {"id": user}
        record.update({n: fields[i] for i, n in enumerate(names) if i != user_at})
        records.append(record)
    return pd.DataFrame(records)


def _refuse_reserved(path: Path, columns: list[str]) -> None:
    """A column that would become one of kgrec's own node properties stops the load."""
    for name in columns:
        if is_reserved_property(name):
            raise DatasetError(
                path, 1, f"column {name!r} is reserved for kgrec's own properties; rename it"
            )


def _read_kg(path: Path, entity_to_item: dict[str, str]) -> pd.DataFrame:
    """Typed triples; an endpoint linked to an item becomes that item. Freebase relations
    get their own types (``film.film.genre`` -> ``FILM_GENRE``), any other relation the
    generated ``REL_*`` type of its name."""
    names, rows = read_atomic(path, ("head_id", "relation_id", "tail_id"))
    types: dict[str, str] = {}
    head_at, rel_at, tail_at = (names.index(n) for n in ("head_id", "relation_id", "tail_id"))
    records = []
    for number, fields in rows:
        head = check_id(fields[head_at], path, number, "head entity")
        tail = check_id(fields[tail_at], path, number, "tail entity")
        relation = fields[rel_at]
        if relation not in types:
            try:  # Freebase's known relations by name, any other in the generated shape
                types[relation] = FREEBASE_RELATIONS.get(relation) or (
                    generated_relationship_type(relation)
                )
            except VocabularyError as error:
                raise DatasetError(path, number, str(error)) from error
        head_item, tail_item = entity_to_item.get(head), entity_to_item.get(tail)
        records.append(
            (
                head_item or head,
                Label.ITEM.value if head_item else Label.ENTITY.value,
                types[relation],
                tail_item or tail,
                Label.ITEM.value if tail_item else Label.ENTITY.value,
            )
        )
    return pd.DataFrame(records, columns=["head", "head_label", "type", "tail", "tail_label"])


def interactions_file(path: Path) -> Path:
    """``<folder>/<folder>.inter`` when it exists, else the folder's one ``*.inter``."""
    named = path / f"{path.name}.inter"
    if named.is_file():
        return named
    found = find_one(path, "*.inter", required=True)
    assert found is not None
    return found


def load_recbole(path: Path, name: str | None = None) -> CanonicalDataset:
    """Load the folder's ``<stem>.inter`` (required) and whichever of ``<stem>.item .user
    .kg .link`` exist, ``<stem>`` being the folder's name or the one ``.inter`` file's."""
    path = Path(path)
    name = name or path.name
    stem = interactions_file(path).stem
    files = {
        suffix: path / f"{stem}.{suffix}" for suffix in ("inter", "item", "user", "kg", "link")
    }
    notes: list[str] = []
    interactions = read_interactions(files["inter"])

    link = read_link(files["link"]) if files["link"].exists() else {}
    entity_to_item = {entity: item for item, entity in link.items()}

    if files["item"].exists():
        items, genres = _read_items(files["item"])
    else:
        items, genres = pd.DataFrame({"id": [], "title": []}), []
    known = set(items["id"])
    extra = sorted((set(interactions["item"]) | set(link)) - known)
    if extra:
        notes.append(f"{len(extra)} items have interactions or links but no .item row (no title)")
        items = pd.concat([items, pd.DataFrame({"id": extra, "title": None})], ignore_index=True)
    items["entity"] = items["id"].map(link)

    users = _read_users(files["user"]) if files["user"].exists() else pd.DataFrame({"id": []})
    missing_users = sorted(set(interactions["user"]) - set(users["id"]))
    if missing_users and len(users):
        notes.append(f"{len(missing_users)} users have interactions but no .user row")
    users = pd.concat([users, pd.DataFrame({"id": missing_users})], ignore_index=True)

    triple_parts = []
    entity_parts = []
    if genres:
        genre_frame = pd.DataFrame(genres, columns=["head", "tail"]).drop_duplicates()
        triple_parts.append(
            genre_frame.assign(
                head_label=Label.ITEM.value, type="HAS_GENRE", tail_label=Label.GENRE.value
            )
        )
        names = sorted(set(genre_frame["tail"]))
        entity_parts.append(pd.DataFrame({"id": names, "label": Label.GENRE.value, "name": names}))
    if files["kg"].exists():
        kg = _read_kg(files["kg"], entity_to_item)
        before = len(kg)
        kg = kg.drop_duplicates()
        if before != len(kg):
            notes.append(f"{before - len(kg)} duplicate KG triples collapsed")
        triple_parts.append(kg)
        ids = sorted(
            set(kg.loc[kg["head_label"] == "Entity", "head"])
            | set(kg.loc[kg["tail_label"] == "Entity", "tail"])
        )
        entity_parts.append(pd.DataFrame({"id": ids, "label": Label.ENTITY.value, "name": None}))
        notes.append(f"{len(link)} items merged with their linked KG entity")
    triples = concat_frames(triple_parts, TRIPLE_COLUMNS)
    entities = concat_frames(entity_parts, ENTITY_COLUMNS)
    return CanonicalDataset(
        name=name,
        interactions=leave_one_out(interactions),
        users=users,
        items=items,
        entities=entities,
        triples=triples,
        notes=notes,
    )
