"""The generic format: tables a user exports from their own system, as CSV or Parquet.

A folder holds ``interactions.csv`` (or ``.parquet``), and optionally ``items.*`` and
``triples.*``:

- interactions: a user and an item column, optionally a timestamp and a rating;
- items: an item column, optionally a title, free-text columns (joined into the item's
  description, which its text vector is made from) and categorical columns (each value an
  ``Attribute`` node named by it, linked by a relationship type named after the column);
- triples: ``head, relation, tail``, optionally ``head_name`` and ``tail_name``; a head or
  tail that is an item id is that item, anything else an ``Entity``.

Column names are configurable (:class:`TableColumns`). Relation and column names become
relationship types only through :func:`~kgstore.vocabulary.generated_relationship_type`,
never as raw text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kgstore.datasets.canonical import (
    ENTITY_COLUMNS,
    TRIPLE_COLUMNS,
    CanonicalDataset,
    DatasetError,
    concat_frames,
)
from kgstore.datasets.split import leave_one_out
from kgstore.vocabulary import (
    Label,
    VocabularyError,
    generated_relationship_type,
    is_reserved_property,
)

SUFFIXES = (".csv", ".parquet")
SEPARATORS = (",", ";", "\t", "|")
CATEGORY_COLUMNS = ["item", "value", "column"]  # an item's value in a categorical column
LONG_TEXT = 40  # mean characters above which an unlisted item column counts as free text


@dataclass(frozen=True)
class TableColumns:
    """Which column holds what (defaults: the names below).

    Args:
        user, item, timestamp, rating: interactions' columns (timestamp and rating optional).
        title: the items' title column (optional).
        text: items' free-text columns; ``None`` guesses (string columns with a mean length
            over 40 characters).
        categories: items' categorical columns; ``None`` takes every other column whose
            values are not all numbers (numeric columns stay item properties).
        head, relation, tail, head_name, tail_name: the triples' columns.
    """

    user: str = "user"
    item: str = "item"
    timestamp: str = "timestamp"
    rating: str = "rating"
    title: str = "title"
    text: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    head: str = "head"
    relation: str = "relation"
    tail: str = "tail"
    head_name: str = "head_name"
    tail_name: str = "tail_name"


def table_file(folder: Path, stem: str, *, required: bool) -> Path | None:
    """``folder/stem.csv`` or ``folder/stem.parquet``; both at once is an error."""
    found = [
        folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").is_file()
    ]
    if len(found) > 1:
        raise DatasetError(folder, None, f"both {found[0].name} and {found[1].name}; keep one")
    if not found and required:
        raise DatasetError(folder, None, f"no {stem}.csv or {stem}.parquet")
    return found[0] if found else None


def looks_like(folder: Path) -> bool:
    return folder.is_dir() and any((folder / f"interactions{s}").is_file() for s in SUFFIXES)


def read_table(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Every column as text (missing as ``None``); ``required`` columns must exist and have
    no empty cell. Errors name the file and the line (CSV) or row (Parquet)."""
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            frame = frame.astype(object).where(frame.notna(), None)
            frame = frame.map(lambda v: None if v is None else str(v))
        else:
            frame = pd.read_csv(
                path, sep=separator(path), dtype=str, keep_default_na=False, encoding="utf-8-sig"
            )
            frame = frame.where(frame != "", None)
    except UnicodeDecodeError as error:
        raise DatasetError(
            path, None, f"not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from error
    except (ValueError, OSError) as error:  # pandas' parser errors too
        raise DatasetError(path, None, f"cannot read: {error}") from error
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise DatasetError(path, 1, f"missing column(s) {', '.join(missing)}")
    for column in required:
        empty = frame[column].isna() | (frame[column].str.strip() == "")
        if empty.any():
            raise DatasetError(path, _line(path, int(empty.argmax())), f"empty {column}")
    return frame


def separator(path: Path) -> str:
    """The CSV file's field separator, read from its header: whichever of comma, semicolon,
    tab and bar splits it into the most columns (comma where none does)."""
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _numeric(column: pd.Series) -> bool:
    """Whether every value present reads as a number (kept as a property, not a category)."""
    present = column.dropna()
    return bool(len(present)) and bool(pd.to_numeric(present, errors="coerce").notna().all())


def _line(path: Path, row: int) -> int:
    """The line of a data row (CSV: after the header) or its 1-based row number."""
    return row + 2 if path.suffix == ".csv" else row + 1


def _numbers(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        row = int(bad.argmax())
        raise DatasetError(
            path, _line(path, row), f"{column} {frame[column].iloc[row]!r} is not a number"
        )
    return values.astype(float)


def _times(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Numbers (any unit: only their order is used), or seconds since 1970 from ISO 8601
    dates and times (without a zone: UTC); the first value says which. Every interaction
    needs one: a few missing would silently put the whole split in file order."""
    values = frame[column]
    if values.isna().any():
        row = int(values.isna().argmax())
        raise DatasetError(
            path,
            _line(path, row),
            f"empty {column}: every interaction needs one when the column is there "
            "(leave the column out to split in file order)",
        )
    if pd.notna(pd.to_numeric(values.iloc[0], errors="coerce")):  # numbers, as the first is
        return _numbers(frame, column, path)
    times = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
    if times.isna().any():
        row = int(times.isna().argmax())
        raise DatasetError(
            path,
            _line(path, row),
            f"{column} {values.iloc[row]!r} is neither a number nor an ISO 8601 date or time",
        )
    return (times - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)


def _interactions(path: Path, columns: TableColumns) -> pd.DataFrame:
    frame = read_table(path, (columns.user, columns.item))
    if frame.empty:
        raise DatasetError(path, None, "no interactions (a header and no rows)")
    for column in (columns.user, columns.item):
        spaced = frame[column].str.contains(r"\s", regex=True)
        if spaced.any():
            row = int(spaced.argmax())
            raise DatasetError(
                path, _line(path, row), f"bad {column} id {frame[column].iloc[row]!r}"
            )
    out = pd.DataFrame({"user": frame[columns.user], "item": frame[columns.item]})
    out["rating"] = (
        _numbers(frame, columns.rating, path) if columns.rating in frame else float("nan")
    )
    out["timestamp"] = (
        _times(frame, columns.timestamp, path) if columns.timestamp in frame else float("nan")
    )
    out["position"] = range(len(out))
    return out


def _items(path: Path, columns: TableColumns) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Item rows (id, title, description, other properties) and (item, column, value) pairs
    of the categorical columns."""
    frame = read_table(path, (columns.item,))
    duplicated = frame[columns.item].duplicated()
    if duplicated.any():
        row = int(duplicated.argmax())
        raise DatasetError(
            path, _line(path, row), f"item {frame[columns.item].iloc[row]!r} appears twice"
        )
    others = [c for c in frame.columns if c not in (columns.item, columns.title)]
    text = (
        list(columns.text)
        if columns.text is not None
        else [c for c in others if frame[c].dropna().str.len().mean() > LONG_TEXT]
    )
    categories = (
        list(columns.categories)
        if columns.categories is not None
        else [c for c in others if c not in text and not _numeric(frame[c])]
    )
    for column in [*text, *categories]:
        if column not in frame.columns:
            raise DatasetError(path, 1, f"no column {column!r}")
    items = pd.DataFrame({"id": frame[columns.item]})
    items["title"] = frame.get(columns.title)
    if text:
        joined = frame[text].apply(lambda row: " ".join(v for v in row if v), axis=1)
        items["description"] = joined.where(joined != "", None)
    for column in others:
        if column in text or column in categories:
            continue
        if is_reserved_property(column):
            raise DatasetError(path, 1, f"column {column!r} is reserved; rename it")
        items[column] = frame[column]
    pairs = [
        frame[[columns.item, column]]
        .dropna()
        .rename(columns={columns.item: "item", column: "value"})
        .assign(column=column)
        for column in categories
    ]
    return items, concat_frames(pairs, CATEGORY_COLUMNS)


def _label(node: str, items: set[str]) -> str:
    return Label.ITEM.value if node in items else Label.ENTITY.value


def _relationship_type(name: str, path: Path) -> str:
    try:
        return generated_relationship_type(name)
    except VocabularyError as error:
        raise DatasetError(path, None, str(error)) from error


def load_tables(
    path: Path, name: str | None = None, columns: TableColumns | None = None
) -> CanonicalDataset:
    """A canonical dataset from a folder of tables (see the module's docstring)."""
    path = Path(path)
    columns = columns or TableColumns()
    notes: list[str] = []
    inter_file = table_file(path, "interactions", required=True)
    assert inter_file is not None
    interactions = _interactions(inter_file, columns)
    item_file = table_file(path, "items", required=False)
    triple_file = table_file(path, "triples", required=False)
    if item_file is not None:
        items, categorical = _items(item_file, columns)
    else:
        items = pd.DataFrame({"id": [], "title": []})
        categorical = concat_frames([], CATEGORY_COLUMNS)
        notes.append("no items file: items have no text (learned item vectors only)")
    extra = sorted(set(interactions["item"]) - set(items["id"]))
    if extra and item_file is not None:
        notes.append(f"{len(extra)} items have interactions but no row in {item_file.name}")
    items = pd.concat([items, pd.DataFrame({"id": extra})], ignore_index=True)
    items["title"] = items["title"].astype(object)

    triple_parts: list[pd.DataFrame] = []
    entity_parts: list[pd.DataFrame] = []
    if len(categorical):
        assert item_file is not None
        triples, attributes = _attribute_triples(categorical, item_file)
        triple_parts.append(triples)
        entity_parts.append(attributes)
    if triple_file is not None:
        triples, entities = _kg_triples(triple_file, columns, set(items["id"]), notes)
        triple_parts.append(triples)
        entity_parts.append(entities)
    return CanonicalDataset(
        name=name or path.name,
        interactions=leave_one_out(interactions),
        users=pd.DataFrame({"id": sorted(set(interactions["user"]))}),
        items=items,
        entities=concat_frames(entity_parts, ENTITY_COLUMNS),
        triples=concat_frames(triple_parts, TRIPLE_COLUMNS),
        notes=notes,
    )


def _attribute_triples(categorical: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Item -> ``Attribute`` triples from (item, value, column) rows, typed by the column,
    and the attribute nodes (id ``column:value``, named by the value)."""
    types = {c: _relationship_type(c, path) for c in categorical["column"].unique()}
    values = categorical.assign(
        tail=categorical["column"] + ":" + categorical["value"],
        type=categorical["column"].map(types),
        head=categorical["item"],
        head_label=Label.ITEM.value,
        tail_label=Label.ATTRIBUTE.value,
    ).drop_duplicates(["head", "tail"])
    attributes = (
        values[["tail", "value"]]
        .drop_duplicates("tail")
        .rename(columns={"tail": "id", "value": "name"})
        .assign(label=Label.ATTRIBUTE.value)
    )
    return values[TRIPLE_COLUMNS], attributes[ENTITY_COLUMNS]


def _kg_triples(
    path: Path, columns: TableColumns, items: set[str], notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The triples file's triples (an endpoint that is an item id is that item) and its
    entities, named where the file names them."""
    frame = read_table(path, (columns.head, columns.relation, columns.tail))
    types = {r: _relationship_type(r, path) for r in frame[columns.relation].unique()}
    heads, tails = frame[columns.head], frame[columns.tail]
    triples = pd.DataFrame(
        {
            "head": heads,
            "head_label": heads.map(lambda v: _label(v, items)),
            "type": frame[columns.relation].map(types),
            "tail": tails,
            "tail_label": tails.map(lambda v: _label(v, items)),
        }
    )
    before = len(triples)
    triples = triples.drop_duplicates()
    if before != len(triples):
        notes.append(f"{before - len(triples)} duplicate triples collapsed")
    notes.append(
        f"{len(types)} relation(s) as types: "
        + ", ".join(f"{k} -> {v}" for k, v in sorted(types.items())[:5])
    )
    named = pd.concat(
        [
            pd.DataFrame({"id": frame[columns.head], "name": frame.get(columns.head_name)}),
            pd.DataFrame({"id": frame[columns.tail], "name": frame.get(columns.tail_name)}),
        ],
        ignore_index=True,
    )
    entities = named[~named["id"].isin(items)]
    entities = entities.sort_values("name", na_position="last").drop_duplicates("id")
    return triples, entities.assign(label=Label.ENTITY.value)[ENTITY_COLUMNS]
