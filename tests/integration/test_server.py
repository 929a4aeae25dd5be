"""The project's own server: obtain, start idempotently, report status."""

from __future__ import annotations

import os

import pytest

from kgstore.graph import Database
from kgstore.server import LocalNeo4j
from kgstore.settings import Neo4jSettings, kgrec_home


def test_local_server_start_is_idempotent(neo4j_settings: Neo4jSettings) -> None:
    if os.environ.get("NEO4J_URI") or not neo4j_settings.is_local:
        pytest.skip("tests run against an external Neo4j, not the project's own server")
    server = LocalNeo4j(kgrec_home() / "neo4j", neo4j_settings)
    first = server.status()
    assert first.running, first.detail
    again = server.start()
    assert again.running and again.pid == first.pid
    assert (server.lib_dir / ".complete").exists()
    assert any(p.name.startswith("neo4j-bolt-5.26") for p in server.lib_dir.iterdir())


def test_server_is_neo4j_5_26_with_vector_indexes(db: Database) -> None:
    records = db.read_text(
        "CALL dbms.components() YIELD name, versions RETURN versions[0] AS version"
    )
    assert records[0]["version"].startswith("5.26")


def test_wrong_credentials_are_reported_not_retried(neo4j_settings: Neo4jSettings) -> None:
    if os.environ.get("NEO4J_URI") or not neo4j_settings.is_local:
        pytest.skip("tests run against an external Neo4j, not the project's own server")
    from kgstore.server import ServerError

    wrong = Neo4jSettings(neo4j_settings.uri, neo4j_settings.user, "not-the-password")
    with pytest.raises(ServerError, match="refused the configured credentials"):
        LocalNeo4j(kgrec_home() / "neo4j", wrong).status()
