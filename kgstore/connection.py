"""One way to open a driver, so every entry point configures it alike."""

from __future__ import annotations

import neo4j

from kgstore.settings import Neo4jSettings


def open_driver(settings: Neo4jSettings) -> neo4j.Driver:
    """A verified driver; server notifications (e.g. "property does not exist yet") are off."""
    driver = neo4j.GraphDatabase.driver(
        settings.uri,
        auth=(settings.user, settings.password),
        notifications_min_severity="OFF",
    )
    try:
        driver.verify_connectivity()
    except Exception:
        driver.close()
        raise
    return driver
