"""A real Neo4j for integration tests, found in this order:

1. ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD`` from the environment;
2. a testcontainers Neo4j 5.26 when a Docker daemon answers;
3. the project's own local server (provisioned and started; stopped again if the tests
   started it).

Tests never wipe the database: each one works in its own dataset namespace and removes it.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from kgstore.connection import open_driver
from kgstore.graph import Database, Graph
from kgstore.server import LocalNeo4j
from kgstore.settings import Neo4jSettings, kgrec_home
from tests.integration.helpers import new_ingestor


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Neo4jSettings]:
    if os.environ.get("NEO4J_URI"):
        yield Neo4jSettings.from_env()
        return
    if _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        password = secrets.token_urlsafe(12)
        with Neo4jContainer("neo4j:5.26-community", password=password) as container:
            yield Neo4jSettings(container.get_connection_url(), "neo4j", password)
        return
    settings = Neo4jSettings.from_env(create_local_password=True)
    server = LocalNeo4j(kgrec_home() / "neo4j", settings, heap="2g", page_cache_mb=512)
    was_running = server.status().running
    server.start()
    print(f"\nintegration tests use the project's local Neo4j on {settings.uri}")
    yield settings
    if not was_running:
        server.stop()


@pytest.fixture(scope="session")
def driver(neo4j_settings: Neo4jSettings) -> Iterator[neo4j.Driver]:
    with open_driver(neo4j_settings) as opened:
        yield opened


@pytest.fixture(scope="session")
def database(neo4j_settings: Neo4jSettings) -> str:
    return neo4j_settings.database


@pytest.fixture(scope="session")
def db(driver: neo4j.Driver, database: str) -> Database:
    return Database(driver, database)


@pytest.fixture
def namespace(db: Database, tmp_path: Path) -> Iterator[str]:
    """A dataset name private to this test; its nodes are removed afterwards."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    new_ingestor(db, tmp_path).drop(name)


@pytest.fixture
def graph(db: Database, namespace: str) -> Graph:
    """The test's private dataset namespace."""
    return db.graph(namespace)
