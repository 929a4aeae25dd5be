"""A digest of the code that trains a model, so kept models are not reused after that code
changes, while edits that cannot change a model (comments, docstrings, formatting) keep
them."""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path


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
