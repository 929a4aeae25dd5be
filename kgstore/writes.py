"""Managed write transactions in one place: single writes and batched ``$rows`` writes.

Each transaction goes through ``session.execute_write``, which retries transient errors, so
every statement written this way must be idempotent for its batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import neo4j
from tqdm import tqdm

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_write(driver: neo4j.Driver, database: str, statement: str, params: dict[str, Any]) -> None:
    """One statement in one managed write transaction."""
    with driver.session(database=database) as session:
        session.execute_write(_consume, statement, params)


def write_batches(
    driver: neo4j.Driver,
    database: str,
    statement: str,
    batches: Iterable[Sequence[dict[str, Any]]],
    params: dict[str, Any],
    total: int,
    desc: str,
    progress: bool = True,
    unit: str = "row",
) -> None:
    """Each batch becomes ``$rows`` (with ``params``) of its own managed write transaction.

    ``batches`` may be a generator, so large rows (vectors) are built one batch at a time.
    """
    with (
        tqdm(
            total=total, desc=desc, unit=unit, disable=not progress, leave=False, mininterval=0.5
        ) as bar,
        driver.session(database=database) as session,
    ):
        for batch in batches:
            session.execute_write(_consume, statement, {**params, "rows": list(batch)})
            bar.update(len(batch))


def _consume(tx: neo4j.ManagedTransaction, statement: str, params: dict[str, Any]) -> None:
    tx.run(statement, params).consume()
