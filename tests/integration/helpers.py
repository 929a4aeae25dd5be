"""Helpers the integration tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kgstore.graph import Database
from kgstore.ingest import Ingestor
from recommender.config import KgrecSettings


def new_ingestor(db: Database, home: Path, **options: Any) -> Ingestor:
    """An ingestor with the default vector dimensions and no progress bars."""
    settings = KgrecSettings()
    options.setdefault("progress", False)
    return Ingestor(db, home, settings.embedding_dim, settings.persona_dim, **options)
