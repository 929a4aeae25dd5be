"""Names derived from content: a digest of the code that trains a model (comments,
docstrings and formatting do not change it), and fingerprints of values and arrays."""

from __future__ import annotations

import ast
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


@cache
def code_digest(*sources: Path) -> str:
    """Hash of the syntax trees of the ``.py`` files given or under the folders given,
    with their names."""
    digest = hashlib.sha256()
    files = [p for s in sources for p in (sorted(s.rglob("*.py")) if s.is_dir() else [s])]
    for path in files:
        tree = _without_docstrings(ast.parse(path.read_text(encoding="utf-8")))
        digest.update(path.name.encode())
        digest.update(b"\x1e")
        digest.update(ast.dump(tree, include_attributes=False).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def fingerprint(value: Any, length: int = 16) -> str:
    """A short SHA-256 of ``value`` as canonical JSON (sorted keys, no spaces; what JSON
    cannot hold becomes its ``str``). The same value always gives the same name."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def array_digest(*arrays: np.ndarray, length: int = 16) -> str:
    """A short SHA-256 of the arrays' bytes, in order (shapes are not part of it)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"\x1e")
    return digest.hexdigest()[:length]
