"""Handles on the graph that every function of ``kgstore`` takes: a :class:`Database`, and
a :class:`Graph` (one dataset's namespace in it).

Reads run the named Cypher statement (one ``.cypher`` file) as a read-routed query; writes
run in a managed write transaction, retried on transient errors, so write statements must
be idempotent for their batch. A :class:`Graph` passes its dataset's name as ``$dataset``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import neo4j
from tqdm import tqdm

from kgstore import queries
from kgstore.vocabulary import check_name


@dataclass(frozen=True)
class Database:
    """Args:
    driver: an open driver (see :func:`kgstore.connection.open_driver`).
    database: the Neo4j database name.
    timeout_s: Neo4j's limit on each read (keyword only; default none, for batch jobs);
        a read over it fails with a ``ClientError`` instead of holding a caller.
    """

    driver: neo4j.Driver
    database: str
    timeout_s: float | None = field(default=None, kw_only=True)

    def graph(self, dataset: str) -> Graph:
        """The namespace of ``dataset`` in this database."""
        return Graph(self.driver, self.database, dataset, timeout_s=self.timeout_s)

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        return params

    def statement(self, name: str, slots: Mapping[str, str] | None = None, /) -> str:
        """The text of statement ``name``, its identifier slots filled from the allow-list."""
        return queries.render(name, **(slots or {}))

    def read(
        self, name: str, slots: Mapping[str, str] | None = None, /, **params: Any
    ) -> list[neo4j.Record]:
        """The records of read statement ``name`` with ``params`` (and ``$dataset``)."""
        return self.read_text(self.statement(name, slots), **params)

    def read_text(self, statement: str, /, **params: Any) -> list[neo4j.Record]:
        """The records of a read statement already rendered."""
        records, _, _ = self.driver.execute_query(
            neo4j.Query(statement, timeout=self.timeout_s),
            self._params(params),
            database_=self.database,
            routing_=neo4j.RoutingControl.READ,
        )
        return records

    def run(self, name: str, slots: Mapping[str, str] | None = None, /, **params: Any) -> None:
        """Statement ``name`` as one auto-commit query (schema and administration)."""
        self.driver.execute_query(
            neo4j.Query(self.statement(name, slots), timeout=self.timeout_s),
            self._params(params),
            database_=self.database,
        )

    def write(self, name: str, slots: Mapping[str, str] | None = None, /, **params: Any) -> None:
        """Write statement ``name`` with ``params`` (and ``$dataset``) in one transaction."""
        with self.driver.session(database=self.database) as session:
            session.execute_write(_consume, self.statement(name, slots), self._params(params))

    def write_rows(
        self,
        statement: str,
        batches: Iterable[Sequence[dict[str, Any]]],
        total: int,
        desc: str,
        progress: bool = True,
        unit: str = "row",
        **params: Any,
    ) -> None:
        """Each batch becomes ``$rows`` (with ``params`` and ``$dataset``) of its own write
        transaction. ``batches`` may be a generator, so large rows (vectors) are built one
        batch at a time."""
        with (
            tqdm(
                total=total,
                desc=desc,
                unit=unit,
                disable=not progress,
                leave=False,
                mininterval=0.5,
            ) as bar,
            self.driver.session(database=self.database) as session,
        ):
            for batch in batches:
                session.execute_write(
                    _consume, statement, self._params({**params, "rows": list(batch)})
                )
                bar.update(len(batch))


@dataclass(frozen=True)
class Graph(Database):
    """Args:
    driver: an open driver (see :func:`kgstore.connection.open_driver`).
    database: the Neo4j database name.
    dataset: the dataset namespace (``Dataset.name`` and every node's ``dataset``).
    timeout_s: as for :class:`Database`.
    """

    dataset: str

    def __post_init__(self) -> None:
        check_name(self.dataset)  # it also names files: the split, the export cache

    def of(self, dataset: str) -> Graph:
        """The same database, another dataset."""
        return replace(self, dataset=dataset)

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"dataset": self.dataset, **params}


def _consume(tx: neo4j.ManagedTransaction, statement: str, params: dict[str, Any]) -> None:
    tx.run(statement, params).consume()
