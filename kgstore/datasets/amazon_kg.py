"""Amazon-KG: v2 ``.inter``/``.link`` (RecBole layout) plus v1 titles and one-hop neighbours.

v1 writes titles as regexes (``The.*Prophet``, ``Open\\:.*An.*Autobiography``): ``.*`` becomes
a space and backslash escapes are dropped. v1 may list several DBpedia candidates per item;
the v2 ``.link`` is the authoritative item -> entity link. v1 neighbours are untyped; the prefix
decides the node type: ``cat:`` -> Category (``IN_CATEGORY``), ``res:`` -> Resource
(``HAS_RESOURCE``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from kgstore.datasets.canonical import CanonicalDataset, DatasetError
from kgstore.datasets.reader import check_id, find_one, read_rows
from kgstore.datasets.recbole import read_interactions, read_link
from kgstore.datasets.split import leave_one_out
from kgstore.vocabulary import Label

_ESCAPE = re.compile(r"\\(.)")
_PREFIXES = {
    "cat:": (Label.CATEGORY.value, "IN_CATEGORY"),
    "res:": (Label.RESOURCE.value, "HAS_RESOURCE"),
}


def readable_title(pattern: str) -> str:
    """``The.*Prophet`` -> ``The Prophet``."""
    return " ".join(_ESCAPE.sub(r"\1", pattern.replace(".*", " ")).split())


def readable_entity(entity: str) -> str:
    """``cat:Novels_set_in_Ontario`` -> ``Novels set in Ontario``."""
    return entity.split(":", 1)[-1].replace("_", " ").strip()


# Amazon-KG's files, by pattern so that every domain (Books, Movies_and_TV, ...) is read:
# v2 interactions and links, v1 titles and one-hop neighbours. Only the interactions are
# required.
INTERACTIONS, LINKS, TITLES, NEIGHBOURS = "*.inter", "*.link", "items_*.csv", "item_metadata_*.csv"


def looks_like(folder: Path) -> bool:
    """Whether ``folder`` has Amazon-KG's interactions and one of its v1 item files."""
    return any(folder.glob(INTERACTIONS)) and (
        any(folder.glob(TITLES)) or any(folder.glob(NEIGHBOURS))
    )


def _read_titles(path: Path) -> tuple[dict[str, str], int]:
    """item -> readable title (first row wins), and how many rows were extra candidates."""
    rows = read_rows(path, min_fields=3, max_fields=3)
    header = next(rows, None)
    if header is None or header[1][:2] != ["iid", "title"]:
        raise DatasetError(path, 1, "expected header 'iid<TAB>title<TAB>uri'")
    titles: dict[str, str] = {}
    extra = 0
    for number, (iid, title, _uri) in rows:
        item = check_id(iid, path, number, "item")
        if item in titles:
            extra += 1
            continue
        if not title.strip():
            raise DatasetError(path, number, f"empty title for item {item!r}")
        titles[item] = readable_title(title)
    return titles, extra


def _read_neighbours(path: Path) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """(item, entity) pairs, and web addresses (homepages), which are not KG entities."""
    rows = read_rows(path, min_fields=1)
    header = next(rows, None)
    if header is None or header[1][0] != "iid":
        raise DatasetError(path, 1, "expected header 'iid<TAB>metadata'")
    pairs: list[tuple[str, str]] = []
    urls: dict[str, list[str]] = {}
    for number, fields in rows:
        item = check_id(fields[0], path, number, "item")
        for entity in fields[1:]:
            if not entity:
                continue
            if entity.startswith(("http://", "https://")):
                urls.setdefault(item, []).append(entity)
                continue
            if entity[:4] not in _PREFIXES:
                raise DatasetError(path, number, f"neighbour {entity!r} is neither cat: nor res:")
            pairs.append((item, check_id(entity, path, number, "entity")))
    return pairs, urls


def load_amazon_kg(path: Path, name: str | None = None) -> CanonicalDataset:
    path = Path(path)
    name = name or path.name
    notes: list[str] = []
    inter = find_one(path, INTERACTIONS, required=True)
    assert inter is not None
    interactions = read_interactions(inter)
    link_file = find_one(path, LINKS, required=False)
    link = read_link(link_file) if link_file else {}
    title_file = find_one(path, TITLES, required=False)
    titles, extra_candidates = _read_titles(title_file) if title_file else ({}, 0)
    neighbour_file = find_one(path, NEIGHBOURS, required=False)
    neighbours, urls = _read_neighbours(neighbour_file) if neighbour_file else ([], {})
    for pattern, found in ((TITLES, title_file), (NEIGHBOURS, neighbour_file)):
        if found is None:
            notes.append(f"no {pattern} file: read without it")
    if extra_candidates:
        notes.append(
            f"{extra_candidates} extra v1 DBpedia candidate rows ignored "
            "(v2 .link is authoritative)"
        )

    ids = sorted(set(interactions["item"]) | set(link) | set(titles) | {i for i, _ in neighbours})
    items = pd.DataFrame({"id": ids})
    items["title"] = items["id"].map(titles).astype(object)  # strings, even when none
    items["entity"] = items["id"].map(link)
    # No v1 title: the linked DBpedia resource names the book (res:The_Prophet_(book)).
    untitled = items["title"].isna() & items["entity"].notna()
    items.loc[untitled, "title"] = items.loc[untitled, "entity"].map(readable_entity)
    if untitled.any():
        notes.append(f"{int(untitled.sum())} titles taken from the linked DBpedia resource")
    items["urls"] = items["id"].map(urls)
    if urls:
        notes.append(f"{sum(map(len, urls.values()))} web addresses kept as item property 'urls'")
    cold = len(set(ids) - set(interactions["item"]))
    notes.append(f"{cold} items have text or links but no interactions (cold items kept)")
    notes.append(f"{items['title'].notna().sum()} of {len(items)} items have a title")

    pairs = pd.DataFrame(neighbours, columns=["head", "tail"])
    before = len(pairs)
    pairs = pairs.drop_duplicates()
    if before != len(pairs):
        notes.append(f"{before - len(pairs)} duplicate item neighbours collapsed")
    prefix = pairs["tail"].str[:4]
    pairs["tail_label"] = prefix.map(lambda p: _PREFIXES[p][0])
    pairs["type"] = prefix.map(lambda p: _PREFIXES[p][1])
    pairs["head_label"] = Label.ITEM.value
    triples = pairs[["head", "head_label", "type", "tail", "tail_label"]].reset_index(drop=True)

    entities = (
        triples[["tail", "tail_label"]]
        .drop_duplicates()
        .rename(columns={"tail": "id", "tail_label": "label"})
        .reset_index(drop=True)
    )
    entities["name"] = entities["id"].map(readable_entity)

    users = pd.DataFrame({"id": sorted(set(interactions["user"]))})
    return CanonicalDataset(
        name=name,
        interactions=leave_one_out(interactions),
        users=users,
        items=items,
        entities=entities,
        triples=triples,
        notes=notes,
    )
