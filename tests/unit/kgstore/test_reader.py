from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgstore.datasets import DatasetError, load_dataset
from kgstore.datasets.amazon_kg import readable_entity, readable_title

INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def recbole(tmp_path: Path, inter: str | bytes, **others: str) -> Path:
    folder = tmp_path / "toy"
    write(folder, "toy.inter", inter)
    for suffix, text in others.items():
        write(folder, f"toy.{suffix}", text)
    return folder


def good_inter() -> str:
    rows = [f"u{u}\ti{i}\t{1 + (i % 5)}\t{100 * i + u}" for u in range(3) for i in range(4)]
    return INTER_HEADER + "\n".join(rows) + "\n"


def expect_error(path: Path, line: int | None, fragment: str) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(path, fmt="recbole" if path.is_dir() and any(path.glob("*.inter")) else None)
    message = str(info.value)
    assert fragment in message
    assert info.value.path.endswith(info.value.path.split("/")[-1])
    if line is not None:
        assert info.value.line == line
        assert f":{line}:" in message


def test_a_well_formed_recbole_folder_loads(tmp_path: Path) -> None:
    data = load_dataset(recbole(tmp_path, good_inter()), fmt="recbole")
    assert len(data.interactions) == 12
    assert set(data.interactions["split"]) == {"train", "valid", "test"}


def test_missing_column_names_the_file_and_header_line(tmp_path: Path) -> None:
    folder = recbole(tmp_path, "user_id:token\trating:float\nu1\t3\n")
    expect_error(folder, 1, "missing column(s) item_id")


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    text = good_inter().splitlines()
    text[5] = text[5] + "\textra"
    folder = recbole(tmp_path, "\n".join(text) + "\n")
    expect_error(folder, 6, "expected 4 fields, found 5")


def test_bad_id_names_its_line(tmp_path: Path) -> None:
    folder = recbole(tmp_path, INTER_HEADER + "u1\ti1\t3\t1\n\ti2\t3\t2\n")
    expect_error(folder, 3, "bad user id ''")


def test_non_numeric_rating_names_its_line(tmp_path: Path) -> None:
    folder = recbole(tmp_path, INTER_HEADER + "u1\ti1\tgreat\t1\n")
    expect_error(folder, 2, "rating 'great' is not a number")


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    raw = (INTER_HEADER + "u1\ti1\t3\t1\n").encode() + "u2\tcaf\xe9\t3\t1\n".encode("latin-1")
    folder = recbole(tmp_path, raw)
    expect_error(folder, 3, "not valid UTF-8")


def test_header_without_types_is_refused(tmp_path: Path) -> None:
    folder = recbole(tmp_path, "user_id\titem_id\nu1\ti1\n")
    expect_error(folder, 1, "is not name:type")


def test_kg_relations_outside_freebase_get_generated_types(tmp_path: Path) -> None:
    kg = (
        "head_id:token\trelation_id:token\ttail_id:token\nm.1\tfilm.film.actor\tm.2\n"
        "m.1\tbook.author.works_written\tm.3\n"
    )
    data = load_dataset(recbole(tmp_path, good_inter(), kg=kg), fmt="recbole")
    assert sorted(data.triples["type"]) == ["FILM_ACTOR", "REL_BOOK_AUTHOR_WORKS_WRITTEN"]
    bad = kg + "m.1\t!!!\tm.4\n"
    expect_error(recbole(tmp_path / "bad", good_inter(), kg=bad), 4, "cannot become")


def test_duplicate_link_is_refused(tmp_path: Path) -> None:
    link = "item_id:token\tentity_id:token\ni1\tm.1\ni2\tm.1\n"
    folder = recbole(tmp_path, good_inter(), link=link)
    expect_error(folder, 3, "entity 'm.1' already linked on line 2")


def test_linked_kg_entities_become_items_and_duplicates_are_reported(tmp_path: Path) -> None:
    link = "item_id:token\tentity_id:token\ni1\tm.film1\n"
    kg = (
        "head_id:token\trelation_id:token\ttail_id:token\n"
        "m.film1\tfilm.film.actor\tm.actor\n"
        "m.film1\tfilm.film.actor\tm.actor\n"
        "m.actor\tfilm.actor.film\tm.film1\n"
    )
    item = "item_id:token\tmovie_title:token_seq\tclass:token_seq\ni1\tA Film\tDrama Comedy\n"
    data = load_dataset(recbole(tmp_path, good_inter(), link=link, kg=kg, item=item), fmt="recbole")
    triples = {tuple(row) for row in data.triples.itertuples(index=False)}
    assert ("i1", "Item", "FILM_ACTOR", "m.actor", "Entity") in triples
    assert ("m.actor", "Entity", "ACTOR_FILM", "i1", "Item") in triples
    assert ("i1", "Item", "HAS_GENRE", "Drama", "Genre") in triples
    assert len(data.triples) == 4
    assert any("1 duplicate KG triples collapsed" in note for note in data.notes)
    assert data.items.set_index("id").loc["i1", "entity"] == "m.film1"
    # Items with interactions but no .item row are kept, and the summary says so.
    assert len(data.items) == 4
    assert any("no .item row" in note for note in data.notes)


def test_sequence_file_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "seq", "Toy.txt", "1 1 2 3\n2 4  5\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path.parent, fmt="sequences")
    assert info.value.line == 2 and "bad item id ''" in str(info.value)


def test_sequence_user_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "seq", "Toy.txt", "1 1 2 3\n1 4 5\n")
    with pytest.raises(DatasetError, match=r"Toy.txt:2: user '1' already has a line \(1\)"):
        load_dataset(path.parent, fmt="sequences")


def test_sequence_attributes_must_be_json(tmp_path: Path) -> None:
    write(tmp_path / "seq", "Toy.txt", "1 1 2 3\n")
    write(tmp_path / "seq", "Toy_item2attributes.json", '{"1": [1, 2],\n "2": [3,}')
    with pytest.raises(DatasetError, match=r"Toy_item2attributes.json:2: invalid JSON"):
        load_dataset(tmp_path / "seq", fmt="sequences")


def test_sequence_attributes_become_typed_triples(tmp_path: Path) -> None:
    write(tmp_path / "seq", "Toy.txt", "1 1 2 3\n2 2 3 4\n")
    write(tmp_path / "seq", "Toy_item2attributes.json", json.dumps({"1": [7, 8], "9": [8]}))
    data = load_dataset(tmp_path / "seq", fmt="sequences")
    assert sorted(data.items["id"]) == ["1", "2", "3", "4", "9"]
    assert set(data.triples["type"]) == {"HAS_ATTRIBUTE"}
    assert len(data.entities) == 2


def amazon(tmp_path: Path, metadata: str) -> Path:
    folder = tmp_path / "amz"
    write(
        folder,
        "Books.inter",
        "user_id:token\titem_id:token\trating:float\n"
        + "".join(f"U{u}\tB{i}\t1\n" for u in range(2) for i in range(3)),
    )
    write(
        folder,
        "Books.link",
        "item_id:token\tentity_id:token\nB0\tres:Book_Zero\nB2\tres:The_Prophet_(book)\n",
    )
    write(
        folder,
        "items_Books.csv",
        "iid\ttitle\turi\nB0\tThe.*Prophet\\:.*A.*Tale\tx\n"
        "B0\tThe.*Prophet\\:.*A.*Tale\ty\nB7\tCold\tz\n",
    )
    write(folder, "item_metadata_Books.csv", metadata)
    return folder


def test_amazon_kg_typed_neighbours_titles_and_cold_items(tmp_path: Path) -> None:
    folder = amazon(
        tmp_path,
        "iid\tmetadata\nB0\tcat:Novels_set_in_Ontario\tres:Kahlil_Gibran\t"
        "http://example.org/\t\nB7\tcat:Novels_set_in_Ontario\t\n",
    )
    data = load_dataset(folder, fmt="amazon-kg")
    items = data.items.set_index("id")
    assert items.loc["B0", "title"] == "The Prophet: A Tale"
    assert items.loc["B0", "entity"] == "res:Book_Zero"
    assert items.loc["B0", "urls"] == ["http://example.org/"]
    assert "B7" in items.index  # cold item: text, no interactions
    assert items.loc["B2", "title"] == "The Prophet (book)"  # no v1 title: the link names it
    assert items["title"].isna()["B1"]  # neither title nor link
    assert sorted(data.triples["type"]) == ["HAS_RESOURCE", "IN_CATEGORY", "IN_CATEGORY"]
    names = dict(zip(data.entities["id"], data.entities["name"], strict=True))
    assert names["cat:Novels_set_in_Ontario"] == "Novels set in Ontario"
    assert any("1 extra v1 DBpedia candidate" in note for note in data.notes)


def test_amazon_kg_unknown_neighbour_prefix_names_the_line(tmp_path: Path) -> None:
    folder = amazon(tmp_path, "iid\tmetadata\nB0\tcat:A\nB1\tyago:Something\n")
    with pytest.raises(
        DatasetError, match=r"item_metadata_Books.csv:3: neighbour 'yago:Something'"
    ):
        load_dataset(folder, fmt="amazon-kg")


def test_readable_names() -> None:
    assert readable_title("For.*Whom.*the.*Bell.*Tolls") == "For Whom the Bell Tolls"
    assert readable_title("Open\\:.*An.*Autobiography") == "Open: An Autobiography"
    assert readable_entity("cat:Novels_set_in_Ontario") == "Novels set in Ontario"
    assert readable_entity("res:Kahlil_Gibran") == "Kahlil Gibran"


def test_missing_path_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_dataset(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="cannot tell the format"):
        load_dataset(tmp_path / "empty")


def test_a_byte_order_mark_and_windows_line_ends_are_read(tmp_path: Path) -> None:
    text = good_inter().replace("\n", "\r\n")
    data = load_dataset(recbole(tmp_path, b"\xef\xbb\xbf" + text.encode()), fmt="recbole")
    assert len(data.interactions) == 12
    assert set(data.interactions["user"]) == {"u0", "u1", "u2"}


def test_unicode_separators_inside_a_title_are_text_not_line_breaks(tmp_path: Path) -> None:
    item = "item_id:token\tmovie_title:token_seq\n" + "".join(
        f"i{i}\tTitle{chr(0x2028)}with{chr(0x85)}separators {i}\n" for i in range(4)
    )
    data = load_dataset(recbole(tmp_path, good_inter(), item=item), fmt="recbole")
    titles = dict(zip(data.items["id"], data.items["title"], strict=True))
    assert titles["i2"] == f"Title{chr(0x2028)}with{chr(0x85)}separators 2"
    # A ragged row after them is still reported on its own line.
    bad = item + "i9\n"
    expect_error(recbole(tmp_path / "bad", good_inter(), item=bad), 6, "expected")


@pytest.mark.parametrize(
    ("suffix", "header", "column"),
    [
        ("user", "user_id:token\tdataset:token\n", "dataset"),
        ("user", "user_id:token\tpersona:float_seq\n", "persona"),
        ("item", "item_id:token\tembedding:float_seq\n", "embedding"),
        ("item", "item_id:token\tid:token\n", "id"),
    ],
)
def test_a_column_named_like_kgrecs_own_properties_is_refused(
    tmp_path: Path, suffix: str, header: str, column: str
) -> None:
    body = header + ("u0\tx\n" if suffix == "user" else "i0\tx\n")
    folder = recbole(tmp_path, good_inter(), **{suffix: body})
    expect_error(folder, 1, f"column {column!r} is reserved")


def test_a_user_listed_twice_is_refused(tmp_path: Path) -> None:
    users = "user_id:token\tage:token\nu0\t20\nu1\t30\nu0\t40\n"
    expect_error(recbole(tmp_path, good_inter(), user=users), 4, "user 'u0' appears twice")


def test_a_50_mb_title_is_refused_with_its_line_without_reading_it_whole(tmp_path: Path) -> None:
    huge = "i1\t" + "x" * (50 * 1024 * 1024) + "\n"
    item = "item_id:token\tmovie_title:token_seq\ni0\tFine\n" + huge + "i2\tFine too\n"
    expect_error(recbole(tmp_path, good_inter(), item=item), 3, "longer than 8 MiB")


def test_rows_are_read_one_line_at_a_time(tmp_path: Path) -> None:
    """The reader is a generator: the first rows come before a bad line far below is read."""
    from kgstore.datasets.reader import read_rows

    path = write(tmp_path, "rows.tsv", "a\tb\n" * 1000 + b"\xff\n".decode("latin-1"))
    rows = read_rows(path, min_fields=2)
    assert next(rows) == (1, ["a", "b"])
    with pytest.raises(DatasetError, match=r"rows\.tsv:1001"):
        list(rows)


def _rename_domain(folder: Path, domain: str) -> Path:
    """The same Amazon-KG folder as another domain would ship it (no Books in any name)."""
    for old in list(folder.iterdir()):
        old.rename(folder / old.name.replace("Books", domain))
    return folder


def test_amazon_kg_any_domain_is_detected_and_read(tmp_path: Path) -> None:
    folder = _rename_domain(amazon(tmp_path, "iid\tmetadata\nB0\tcat:Films\n"), "Movies_and_TV")
    data = load_dataset(folder)  # detected, no --format
    items = data.items.set_index("id")
    assert items.loc["B0", "title"] == "The Prophet: A Tale"
    assert list(data.triples["type"]) == ["IN_CATEGORY"]


def test_amazon_kg_without_metadata_reads_titles_and_link_names(tmp_path: Path) -> None:
    folder = _rename_domain(amazon(tmp_path, "unused"), "Beauty")
    (folder / "item_metadata_Beauty.csv").unlink()
    data = load_dataset(folder)
    items = data.items.set_index("id")
    assert items.loc["B0", "title"] == "The Prophet: A Tale"
    assert items.loc["B2", "title"] == "The Prophet (book)"  # a string column, not all-NaN
    assert data.triples.empty
    assert any("item_metadata_*.csv" in note for note in data.notes)


def test_amazon_kg_without_any_title_file_names_items_by_their_link(tmp_path: Path) -> None:
    folder = _rename_domain(amazon(tmp_path, "iid\tmetadata\nB0\tcat:Films\n"), "Toys")
    (folder / "items_Toys.csv").unlink()
    data = load_dataset(folder)
    items = data.items.set_index("id")
    assert items.loc["B2", "title"] == "The Prophet (book)"


def test_two_candidate_title_files_are_refused_by_name(tmp_path: Path) -> None:
    folder = amazon(tmp_path, "iid\tmetadata\nB0\tcat:Films\n")
    write(folder, "items_Books_old.csv", "iid\ttitle\turi\n")
    with pytest.raises(DatasetError, match=r"items_Books\.csv, items_Books_old\.csv"):
        load_dataset(folder)


def test_recbole_files_named_unlike_their_folder(tmp_path: Path) -> None:
    folder = tmp_path / "my-shop"
    write(folder, "export.inter", good_inter())
    write(folder, "export.item", "item_id:token\ttitle:token_seq\ni0\tZero\ni1\tOne\n")
    data = load_dataset(folder)
    titles = dict(zip(data.items["id"], data.items["title"], strict=True))
    assert titles["i1"] == "One" and data.name == "my-shop"


def test_a_names_file_names_unnamed_entities(tmp_path: Path) -> None:
    from kgstore.datasets.names import read_names, with_names

    kg = "head_id:token\trelation_id:token\ttail_id:token\nm.1\tfilm.film.country\tm.9\n"
    link = "item_id:token\tentity_id:token\ni0\tm.1\n"
    data = load_dataset(recbole(tmp_path, good_inter(), kg=kg, link=link), fmt="recbole")
    assert data.entities.set_index("id")["name"].isna()["m.9"]
    for text in ("id\tname\nm.9\tUnited States\nm.404\tNowhere\n",
                 'id,name\nm.9,"United States"\nm.404,Nowhere\n'):  # fmt: skip
        names = read_names(write(tmp_path, "names.txt", text))
        named = with_names(data, names)
        assert named.entities.set_index("id").loc["m.9", "name"] == "United States"
        assert "1 entities named" in named.notes[-1] and "1 of its ids" in named.notes[-1]
    with pytest.raises(DatasetError, match=r"names.txt:3: id 'm.9' is named twice"):
        read_names(write(tmp_path, "names.txt", "id\tname\nm.9\tA\nm.9\tB\n"))
    with pytest.raises(DatasetError, match="header"):
        read_names(write(tmp_path, "names.txt", "entity\tlabel\nm.9\tA\n"))
