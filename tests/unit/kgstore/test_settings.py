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


def test_the_password_never_shows_in_repr(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", "hunter2-secret")
    settings = Neo4jSettings.from_env()
    assert "hunter2-secret" not in repr(settings) and "hunter2-secret" not in str(settings)


def test_only_an_unconfigured_uri_may_start_the_local_server(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recommender.cli import common

    started: list[str] = []
    monkeypatch.setattr(common, "port_open", lambda port: False)
    monkeypatch.setattr(
        common,
        "local_server",
        lambda s: type("S", (), {"start": lambda self: started.append(s.uri)})(),
    )
    monkeypatch.setenv("NEO4J_PASSWORD", "pw")
    default = Neo4jSettings.from_env()
    assert not default.configured
    common.ensure_server(default)
    assert started == ["bolt://127.0.0.1:7687"]
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:7687")  # e.g. a Docker Neo4j not up yet
    configured = Neo4jSettings.from_env()
    assert configured.configured
    assert common.ensure_server(configured) is None and len(started) == 1


def test_the_server_folder_and_log_are_private(tmp_path: Path) -> None:
    from kgstore.server.local import _private_dir

    folder = tmp_path / "a" / "b"
    folder.parent.mkdir(mode=0o755)
    _private_dir(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (tmp_path / "open").mkdir(mode=0o755)
    _private_dir(tmp_path / "open")  # an existing folder is made private too
    assert stat.S_IMODE((tmp_path / "open").stat().st_mode) == 0o700


def test_stop_escalates_to_sigkill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that ignores SIGTERM is killed after the grace period."""
    import subprocess
    import sys

    from kgstore.server import local

    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
         "signal.SIG_IGN); print('KgrecNeo4j', flush=True); time.sleep(60)"],
        start_new_session=True, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert stubborn.stdout is not None and stubborn.stdout.readline()
    monkeypatch.setattr(local, "_alive", lambda pid: stubborn.poll() is None)
    server = LocalNeo4j(tmp_path, Neo4jSettings("bolt://127.0.0.1:7699", "neo4j", "pw"))
    server.pid_file.write_text(str(stubborn.pid))
    assert server.stop(timeout_s=0.5, kill_after_s=5.0) is True
    assert stubborn.wait(timeout=5) == -9
    assert not server.pid_file.exists()


def test_start_and_stop_are_serialised_by_a_lock(tmp_path: Path) -> None:
    """A second holder of the server lock (another process's start or stop) waits."""
    import threading
    import time

    server = LocalNeo4j(tmp_path, Neo4jSettings("bolt://127.0.0.1:7699", "neo4j", "pw"))
    events: list[str] = []

    def hold() -> None:
        with server._locked():
            events.append("first in")
            time.sleep(0.5)
            events.append("first out")

    first = threading.Thread(target=hold)
    first.start()
    time.sleep(0.1)
    with server._locked():  # flock locks are per open file: this blocks like a process
        events.append("second in")
    first.join()
    assert events == ["first in", "first out", "second in"]
    assert stat.S_IMODE((tmp_path / "server.lock").stat().st_mode) == 0o600
