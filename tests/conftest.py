"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kgstore.settings import data_dir


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The public datasets; CI must have them, elsewhere their absence skips with a reason."""
    path = data_dir()
    if not (path / "ml-100k").is_dir():
        message = f"public datasets not found at {path} (set KGREC_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
