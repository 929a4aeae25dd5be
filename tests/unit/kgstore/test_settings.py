from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kgstore.server import LocalNeo4j, ServerError
from kgstore.settings import Neo4jSettings, SettingsError


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KGREC_HOME", str(tmp_path))
    return tmp_path


def test_environment_wins(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j://graph.example:7688")
    monkeypatch.setenv("NEO4J_USER", "alice")
    monkeypatch.setenv("NEO4J_PASSWORD", "from-env")
    settings = Neo4jSettings.from_env()
    assert (settings.uri, settings.user, settings.password) == (
        "neo4j://graph.example:7688",
        "alice",
        "from-env",
    )
    assert not settings.is_local and settings.port == 7688


def test_no_password_and_no_local_server_is_a_clear_error(clean_env: Path) -> None:
    with pytest.raises(SettingsError, match="NEO4J_PASSWORD is not set"):
        Neo4jSettings.from_env()


def test_local_password_is_generated_once_and_private(clean_env: Path) -> None:
    first = Neo4jSettings.from_env(create_local_password=True)
    second = Neo4jSettings.from_env()
    assert first.password == second.password and len(first.password) >= 20
    mode = (clean_env / "neo4j" / "password").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert first.is_local and first.port == 7687


def test_the_project_never_provisions_a_remote_server(tmp_path: Path) -> None:
    remote = Neo4jSettings("bolt://db.example:7687", "neo4j", "pw")
    with pytest.raises(ServerError, match="not on this machine"):
        LocalNeo4j(tmp_path, remote)


def test_status_without_a_server(tmp_path: Path) -> None:
    server = LocalNeo4j(tmp_path, Neo4jSettings("bolt://127.0.0.1:7699", "neo4j", "pw"))
    status = server.status()
    assert not status.running and status.detail == "not started"
    assert server.stop() is False
