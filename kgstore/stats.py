"""Counts per label and relationship type, for one dataset or the whole graph."""

from __future__ import annotations

from collections import Counter

import neo4j

from kgstore import queries
from kgstore.vocabulary import Label


def graph_counts(
    driver: neo4j.Driver, database: str, dataset: str
) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per type of ``dataset`` (zero counts left out)."""
    nodes: dict[str, int] = {}
    relationships: Counter[str] = Counter()
    for label in Label:
        records, _, _ = driver.execute_query(
            queries.render("stats/count_nodes", label=label),
            dataset=dataset,
            database_=database,
            routing_=neo4j.RoutingControl.READ,
        )
        if records[0]["count"]:
            nodes[label.value] = records[0]["count"]
        records, _, _ = driver.execute_query(
            queries.render("stats/count_relationships", label=label),
            dataset=dataset,
            database_=database,
            routing_=neo4j.RoutingControl.READ,
        )
        for record in records:
            relationships[record["type"]] += record["count"]
    return nodes, dict(relationships)


def datasets(driver: neo4j.Driver, database: str) -> list[dict[str, object]]:
    records, _, _ = driver.execute_query(
        queries.load("stats/datasets"), database_=database, routing_=neo4j.RoutingControl.READ
    )
    return [record.data() for record in records]
