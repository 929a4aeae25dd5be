from __future__ import annotations

from pathlib import Path

from recommender.util.hashing import code_digest

SOURCE = '''"""Module docstring."""


def train(x: int) -> int:
    """Why it trains."""
    return x + 1  # one step
'''


def digest_of(tmp_path: Path, name: str, text: str) -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "model.py").write_text(text, encoding="utf-8")
    return code_digest(folder)


def test_comments_docstrings_and_layout_keep_the_digest(tmp_path: Path) -> None:
    reworded = (
        SOURCE.replace("Why it trains.", "Reworded.")
        .replace("# one step", "# another comment")
        .replace("x + 1", "(x\n            + 1)")
    )
    assert digest_of(tmp_path, "a", SOURCE) == digest_of(tmp_path, "b", reworded)


def test_a_change_in_code_changes_the_digest(tmp_path: Path) -> None:
    assert digest_of(tmp_path, "a", SOURCE) != digest_of(
        tmp_path, "b", SOURCE.replace("x + 1", "x + 2")
    )


def test_a_single_file_counts_beside_a_folder(tmp_path: Path) -> None:
    digest_of(tmp_path, "pkg", SOURCE)
    extra = tmp_path / "experiment.py"
    extra.write_text("RATE = 1\n", encoding="utf-8")
    before = code_digest(extra, tmp_path / "pkg")
    assert before != code_digest(tmp_path / "pkg")
    extra.write_text("RATE = 2\n", encoding="utf-8")
    code_digest.cache_clear()  # computed once per process; a test edits the file
    assert code_digest(extra, tmp_path / "pkg") != before


def test_atomic_writes_replace_whole_files_with_ordinary_permissions(tmp_path: Path) -> None:
    import os

    from recommender.util.files import atomic_path, write_text_atomic

    target = tmp_path / "out" / "report.md"
    write_text_atomic(target, "first\n")
    write_text_atomic(target, "second\n")
    assert target.read_text() == "second\n"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    try:
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("killed mid-write")
    except RuntimeError:
        pass
    assert target.read_text() == "second\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]  # no partial left


def test_fingerprints_are_canonical() -> None:
    from recommender.util.hashing import fingerprint

    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert len(fingerprint({"a": 1}, length=12)) == 12
