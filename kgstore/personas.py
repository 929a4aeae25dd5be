"""Persona vectors on User nodes: staged in batches, published in one transaction."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import neo4j
import numpy as np

from kgstore.embeddings import index_name, widen
from kgstore.graph import Graph
from kgstore.schema import SchemaError, vector_index_dimension
from kgstore.vocabulary import Label


@dataclass(frozen=True)
class PersonaNeighbour:
    user: str
    score: float
    shared_items: list[str]
    shared_attributes: list[str]


PERSONA_PAGE = 10_000  # users per read
LOCK_TTL_S = 3_600.0  # a writer's lease; a dead writer on this machine is noticed at once


class PersonaWriteConflict(RuntimeError):
    """Another writer is writing personas of the same dataset."""


def write_personas(
    graph: Graph,
    users: Sequence[str],
    vectors: np.ndarray,
    model: str,
    batch_size: int = 1_000,
    progress: bool = True,
    graph_version: str | None = None,
    lock_ttl_s: float = LOCK_TTL_S,
) -> str:
    """Write a new persona version for ``users``; returns the version id. ``graph_version``
    records which graph they were learned from (so an up-to-date version can be kept).

    One writer at a time: the writer takes a lock on the ``Dataset`` node (a lease of
    ``lock_ttl_s``; a holder on this machine whose process is gone is taken over at once)
    and a second writer gets :class:`PersonaWriteConflict` before it writes anything.
    Vectors are staged batch by batch in a separate property, then one transaction makes the
    staged version current for every user at once (and clears personas of older versions and
    staging left by a killed writer), inside a seqlock, so ``read_personas`` sees either the
    old version or the new one, never a mix. A failure before the publish leaves the current
    personas untouched.
    """
    if len(users) != len(vectors):
        raise ValueError(f"{len(users)} users but {len(vectors)} vectors")
    if len(users) == 0:
        raise ValueError("no personas to write")
    existing = vector_index_dimension(graph, index_name(Label.USER, "persona"))
    if existing is not None and existing != vectors.shape[1]:
        raise SchemaError(
            f"vector index User_persona has dimension {existing}, personas have "
            f"{vectors.shape[1]}; set KGREC_PERSONA_DIM={vectors.shape[1]} and DROP INDEX "
            "User_persona, or train with that dimension"
        )
    version = uuid.uuid4().hex[:12]
    writer = _acquire(graph, version, lock_ttl_s)
    try:
        _stage_and_publish(
            graph, users, vectors, model, batch_size, progress, graph_version, version
        )
    finally:
        graph.write("load/unlock_personas", writer=writer)
    return version


def add_personas(graph: Graph, users: Sequence[str], vectors: np.ndarray, version: str) -> None:
    """Write personas for ``users`` (added after training) into the current version
    ``version``, under the writer lock, so a full retraining cannot publish in between.

    Raises:
        PersonaWriteConflict: another writer holds the lock, or ``version`` is no longer
            the current one (nothing is written then).
    """
    if len(users) != len(vectors):
        raise ValueError(f"{len(users)} users but {len(vectors)} vectors")
    writer = _acquire(graph, version, LOCK_TTL_S)
    try:
        records = graph.write(
            "load/add_personas",
            version=version,
            property="persona",
            rows=[{"id": u, "vector": v.tolist()} for u, v in zip(users, vectors, strict=True)],
            updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    finally:
        graph.write("load/unlock_personas", writer=writer)
    written = int(records[0]["written"]) if records else 0
    if written != len(users):
        raise PersonaWriteConflict(
            f"personas of {graph.dataset!r} are no longer version {version}: retrain or "
            "add the users again"
        )


def _acquire(graph: Graph, version: str, ttl_s: float) -> str:
    """Take the persona writer lock; the writer's id (``host:pid:version``)."""
    writer = f"{socket.gethostname()}:{os.getpid()}:{version}"
    current = graph.read("load/read_persona_lock")
    if not current:
        raise PersonaWriteConflict(f"dataset {graph.dataset!r} is not in the graph")
    holder = current[0]["holder"]
    now = time.time()
    records = graph.write(
        "load/lock_personas",
        writer=writer,
        now=now,
        expires=now + ttl_s,
        stale=holder if holder and _dead_here(holder) else None,
    )
    if not records[0]["acquired"]:
        until = datetime.fromtimestamp(records[0]["expires"], UTC).isoformat(timespec="seconds")
        raise PersonaWriteConflict(
            f"another persona writer ({records[0]['holder']}) is writing personas of "
            f"{graph.dataset!r}; wait for it to finish (its lock lapses at {until} if it died)"
        )
    return writer


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` ran on this machine in a process that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _stage_and_publish(
    graph: Graph,
    users: Sequence[str],
    vectors: np.ndarray,
    model: str,
    batch_size: int,
    progress: bool,
    graph_version: str | None,
    version: str,
) -> None:
    batches = (
        [
            {"id": u, "vector": v.tolist()}
            for u, v in zip(
                users[start : start + batch_size], vectors[start : start + batch_size], strict=True
            )
        ]
        for start in range(0, len(users), batch_size)
    )
    graph.write_rows(
        graph.statement("load/stage_personas"),
        batches,
        total=len(users),
        desc="stage personas",
        progress=progress,
        unit="user",
        version=version,
        property="persona_staged",
    )
    graph.write("load/begin_persona_publish")
    try:
        graph.write(
            "load/publish_personas",
            version=version,
            model=model,
            graph_version=graph_version,
            updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    finally:
        graph.write("load/end_persona_publish")


@dataclass(frozen=True)
class Personas:
    """One published persona version: user ids and their vectors, row-aligned."""

    version: str
    model: str
    ids: np.ndarray
    vectors: np.ndarray


class PersonaReadError(RuntimeError):
    """No consistent persona version could be read."""


def read_personas(
    graph: Graph,
    attempts: int = 20,
    backoff_s: float = 0.05,
) -> Personas | None:
    """The current persona version of ``dataset``, never a mix of two (None if none yet).

    Neo4j reads are read-committed, so one statement can see a publish half applied. The
    reader takes the seqlock's number before and after reading the users: an odd number or a
    change means a publish overlapped, and the read is retried.
    """
    for attempt in range(attempts):
        before = _seq(graph)
        if before is None:
            raise PersonaReadError(f"dataset {graph.dataset!r} is not in the graph")
        if before["version"] is None:
            return None
        seq = before["seq"] or 0
        if seq % 2 == 0:
            ids: list[str] = []
            pages: list[np.ndarray] = []  # each page an array at once
            for page in graph.read_pages(
                "export/personas", page=PERSONA_PAGE, version=before["version"]
            ):
                ids += page["ids"]
                pages.append(np.array(page["vectors"], np.float32).reshape(len(page["ids"]), -1))
            after = _seq(graph)
            if after is not None and (after["seq"] or 0) == seq:
                vectors = np.vstack(pages) if pages else np.zeros((0, 0), np.float32)
                return Personas(
                    before["version"], before["model"], np.array(ids, dtype=object), vectors
                )
        time.sleep(backoff_s * (attempt + 1))
    raise PersonaReadError(
        f"personas of {graph.dataset!r} kept changing or a publish never finished after {attempts} "
        "reads; if no `kgrec personas` is running, run it again to publish a complete version"
    )


def _seq(graph: Graph) -> neo4j.Record | None:
    records = graph.read("export/persona_seq")
    return records[0] if records else None


def nearest_users(
    graph: Graph,
    user: str,
    k: int = 5,
    max_shared: int = 5,
) -> list[PersonaNeighbour]:
    """Users nearest by persona, with the items and attributes they share with ``user``."""
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")

    def search(candidates: int) -> tuple[list[dict[str, Any]], bool]:
        records = graph.read(
            "explain/nearest_users",
            user=user,
            k=k,
            index=index_name(Label.USER, "persona"),
            candidates=candidates,
        )
        if not records:  # no such user, or no persona
            return [], True
        found = list(records[0]["found"])
        return found, len(found) >= k or records[0]["fetched"] < candidates

    neighbours = widen(search, max(20 * k, 200))
    if not neighbours:
        return []
    records = graph.read(
        "explain/shared_with_users", user=user, neighbours=neighbours, max_shared=max_shared
    )
    return [
        PersonaNeighbour(
            r["user"], float(r["score"]), list(r["shared_items"]), list(r["shared_attributes"])
        )
        for r in records
    ]


def read_persona_version(graph: Graph) -> str | None:
    """The dataset's current persona version (None when it has none)."""
    records = graph.read("export/persona_seq")
    return str(records[0]["version"]) if records and records[0]["version"] is not None else None


def persona_model(graph: Graph) -> str | None:
    """The model name of the dataset's current personas (None when it has none)."""
    records = graph.read("export/persona_seq")
    return records[0]["model"] if records and records[0]["version"] is not None else None


def personas_current(
    graph: Graph, graph_version: str, model: str, exactly: str | None = None
) -> bool:
    """Whether ``dataset`` has personas of ``model`` learned from ``graph_version``; a model
    published as ``model:choice`` (a setting chosen when it was trained) counts as ``model``,
    unless ``exactly`` names the whole published name that counts."""
    records = graph.read("export/persona_seq")
    published = str(records[0]["model"]) if records else ""
    return bool(
        records
        and records[0]["version"] is not None
        and (published == exactly if exactly is not None else published.split(":")[0] == model)
        and records[0]["graph_version"] == graph_version
    )
