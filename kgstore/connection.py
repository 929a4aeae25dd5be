"""One way to open a driver, so every entry point configures it alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import neo4j

from kgstore.settings import Neo4jSettings


@dataclass(frozen=True)
class DriverLimits:
    """How long the driver may wait, for callers that must answer in bounded time (the
    HTTP service). Without limits the driver's defaults apply (30 s retries, 60 s to borrow
    a connection), which suit batch jobs.

    Args:
        connection_timeout_s: opening a connection, and borrowing one from the pool.
        retry_budget_s: total time spent retrying a transient failure or an unreachable
            server before the error is raised.
        query_timeout_s: Neo4j's limit on each read (see :class:`kgstore.graph.Database`).
    """

    connection_timeout_s: float
    retry_budget_s: float
    query_timeout_s: float


def open_driver(settings: Neo4jSettings, limits: DriverLimits | None = None) -> neo4j.Driver:
    """A verified driver; server notifications (e.g. "property does not exist yet") are off."""
    bounded: dict[str, Any] = {}
    if limits is not None:
        bounded = {
            "connection_timeout": limits.connection_timeout_s,
            "connection_acquisition_timeout": limits.connection_timeout_s,
            "max_transaction_retry_time": limits.retry_budget_s,
        }
    driver = neo4j.GraphDatabase.driver(
        settings.uri,
        auth=(settings.user, settings.password),
        notifications_min_severity="OFF",
        **bounded,
    )
    try:
        driver.verify_connectivity()
    except Exception:
        driver.close()
        raise
    return driver
