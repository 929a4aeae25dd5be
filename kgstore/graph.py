"""Handles on the graph that every function of ``kgstore`` takes: a :class:`Database`, and
a :class:`Graph` (one dataset's namespace in it).

Reads run the named Cypher statement (one ``.cypher`` file) as a read-routed query; writes
run in a managed write transaction, retried on transient errors, so write statements must
be idempotent for their batch. A :class:`Graph` passes its dataset's name as ``$dataset``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
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

    def read_pages(
        self, name: str, slots: Mapping[str, str] | None = None, /, *, page: int, **params: Any
    ) -> Iterator[neo4j.Record]:
        """The pages of a paged read statement, in order: one taking ``$after`` (the last id
        of the page before; ``""`` first) and ``$page``, and returning one record whose
        ``ids`` are in id order. Memory per read is bounded by ``page``."""
        if page < 1:
            raise ValueError(f"page must be positive, got {page}")
        after = ""
        while True:
            records = self.read(name, slots, after=after, page=page, **params)
            if not records or not records[0]["ids"]:
                return
            yield records[0]
            if len(records[0]["ids"]) < page:
                return
            after = records[0]["ids"][-1]

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

    def write(
        self, name: str, slots: Mapping[str, str] | None = None, /, **params: Any
    ) -> list[neo4j.Record]:
        """Write statement ``name`` with ``params`` (and ``$dataset``) in one transaction;
        the records it returns."""
        with self.driver.session(database=self.database) as session:
            return session.execute_write(
                _records, self.statement(name, slots), self._params(params)
            )

    def write_rows(
        self,
        statement: str,
        batches: Iterable[Sequence[dict[str, Any]]],
        total: int,
        desc: str,
        progress: bool = True,
        unit: str = "row",
        key: str | None = None,
        **params: Any,
    ) -> None:
        """Each batch becomes ``$rows`` (with ``params`` and ``$dataset``) of its own write
        transaction. ``batches`` may be a generator, so large rows (vectors) are built one
        batch at a time.

        With ``key`` (a :class:`Graph`'s, whose ``Dataset`` node exists), each batch is
        written at most once however often the driver retries it: the batch claims
        ``key#first+count`` on the ``Dataset`` node in its own transaction
        (``load/claim_batch``), and a retry of a batch already committed writes nothing.
        For statements that are not idempotent by themselves (``CREATE``); the claims are
        cleared by ``load/mark_phase_done``."""
        claim = None if key is None else self.statement("load/claim_batch")
        first = 0
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
                rows = list(batch)
                claimed = None
                if claim is not None and key is not None:
                    claimed = (claim, f"{batch_prefix(key)}{first}+{len(rows)}")
                session.execute_write(
                    _write_batch, statement, self._params({**params, "rows": rows}), claimed
                )
                first += len(rows)
                bar.update(len(rows))


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


def batch_prefix(key: str) -> str:
    """What every batch key of ``write_rows(..., key=key)`` starts with."""
    return f"{key}#"


def _records(
    tx: neo4j.ManagedTransaction, statement: str, params: dict[str, Any]
) -> list[neo4j.Record]:
    return list(tx.run(statement, params))


def _write_batch(
    tx: neo4j.ManagedTransaction,
    statement: str,
    params: dict[str, Any],
    claim: tuple[str, str] | None,
) -> None:
    """One batch; with ``claim`` (statement, batch key), only if the key is not yet taken."""
    if claim is not None:
        record = tx.run(claim[0], {"dataset": params["dataset"], "batch": claim[1]}).single()
        if record is None or not record["claimed"]:
            return
    tx.run(statement, params).consume()
