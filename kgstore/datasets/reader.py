"""Strict reading of delimited text: every problem names the file and the line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kgstore.datasets.canonical import DatasetError


def read_text(path: Path) -> str:
    """The whole file as UTF-8 (a leading byte-order mark is dropped); a decoding error
    names the line where it happens."""
    if not path.is_file():
        raise DatasetError(path, None, "file not found")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DatasetError(path, line, f"not valid UTF-8 ({error.reason})") from error


def find_one(folder: Path, pattern: str, *, required: bool) -> Path | None:
    """The one file of ``folder`` matching ``pattern`` (a glob), None when there is none
    and it is optional.

    Raises:
        DatasetError: a required file is missing, or two files match (both named).
    """
    matches = sorted(p for p in folder.glob(pattern) if p.is_file())
    if len(matches) > 1:
        shown = ", ".join(p.name for p in matches[:5])
        raise DatasetError(folder, None, f"two or more files match {pattern}: {shown}; keep one")
    if not matches and required:
        raise DatasetError(folder, None, f"no file matches {pattern}")
    return matches[0] if matches else None


MAX_LINE_BYTES = 8 * 1024 * 1024  # a longer line is refused, not read whole


def read_rows(
    path: Path, *, sep: str = "\t", min_fields: int = 1, max_fields: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Non-empty lines split on ``sep``, each with its 1-based line number, read one line at
    a time (the file is never held whole). Lines end at ``\n`` only (a ``\r`` before it is
    dropped): Unicode separators such as U+2028 inside a field are text, not line breaks. A
    leading UTF-8 byte-order mark is dropped.

    Raises:
        DatasetError: no such file, a line that is not UTF-8, longer than
            :data:`MAX_LINE_BYTES`, or with too few or too many fields.
    """
    if not path.is_file():
        raise DatasetError(path, None, "file not found")
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise DatasetError(
                    path, number, f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB"
                )
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise DatasetError(path, number, f"not valid UTF-8 ({error.reason})") from error
            line = line.removesuffix("\n").removesuffix("\r")
            if not line.strip():
                continue
            fields = line.split(sep)
            if len(fields) < min_fields or (max_fields is not None and len(fields) > max_fields):
                expected = str(min_fields) if max_fields == min_fields else f">= {min_fields}"
                raise DatasetError(path, number, f"expected {expected} fields, found {len(fields)}")
            yield number, fields


def check_id(value: str, path: Path, line: int, what: str) -> str:
    """An id is a non-empty token without whitespace."""
    if not value or value != value.strip() or any(ch.isspace() for ch in value):
        raise DatasetError(path, line, f"bad {what} id {value!r}")
    return value


def parse_float(value: str, path: Path, line: int, what: str) -> float:
    try:
        return float(value)
    except ValueError as error:
        raise DatasetError(path, line, f"{what} {value!r} is not a number") from error
