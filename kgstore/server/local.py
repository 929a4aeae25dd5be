"""Provision the embedded Neo4j runtime with Maven and run it as a background process.

The runtime jars come from Maven Central once (``mvn dependency:copy-dependencies``); later
starts need no network. The process is the small launcher in ``KgrecNeo4j.java``, run in
Java's source-file mode, so there is nothing to compile or ship.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import neo4j

from kgstore.settings import Neo4jSettings

READY_LINE = b"kgrec-neo4j: ready"


class ServerError(RuntimeError):
    """The local server could not be obtained, started or stopped."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    uri: str
    detail: str


class LocalNeo4j:
    """The project's own Neo4j server under ``home`` (jars, data, logs, pid file).

    Args:
        home: folder for everything the server keeps (git-ignored; e.g. ``.kgrec/neo4j``).
        settings: where it listens and the credentials it enforces; the URI must be local.
        heap: JVM maximum heap (default ``2g``).
        page_cache_mb: Neo4j page cache in MiB (default ``1024``).
    """

    def __init__(
        self,
        home: Path,
        settings: Neo4jSettings,
        heap: str = "2g",
        page_cache_mb: int = 1024,
    ) -> None:
        if not settings.is_local:
            raise ServerError(
                f"{settings.uri} is not on this machine; the project only provisions a server "
                "on 127.0.0.1 (unset NEO4J_URI to use it)."
            )
        self.home = home
        self.settings = settings
        self.heap = heap
        self.page_cache_mb = page_cache_mb

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "server.pid"

    # -- obtain ---------------------------------------------------------------------------

    def ensure_runtime(self) -> None:
        """Resolve the Neo4j jars from Maven Central on first use."""
        marker = self.lib_dir / ".complete"
        if marker.exists():
            return
        mvn = shutil.which("mvn")
        java = shutil.which("java")
        if mvn is None or java is None:
            raise ServerError(
                "Java 17+ and Maven are needed to run Neo4j without Docker "
                "(e.g. `apt-get install openjdk-17-jre-headless maven`), "
                "or point NEO4J_URI at an existing server."
            )
        self.home.mkdir(parents=True, exist_ok=True)
        partial = self.home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        with resources.as_file(resources.files("kgstore.server") / "pom.xml") as pom:
            print("kgrec: fetching Neo4j 5.26 from Maven Central (once)...", file=sys.stderr)
            result = subprocess.run(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-f",
                    str(pom),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={partial}",
                    "-DincludeScope=runtime",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
        if result.returncode != 0:
            raise ServerError(f"Maven could not resolve Neo4j:\n{result.stdout}{result.stderr}")
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        partial.rename(self.lib_dir)
        marker.touch()

    # -- run ------------------------------------------------------------------------------

    def status(self) -> ServerStatus:
        pid = self._read_pid()
        if pid is None:
            return ServerStatus(False, None, self.settings.uri, "not started")
        if not _alive(pid):
            return ServerStatus(False, None, self.settings.uri, f"stale pid file ({pid})")
        if not self._bolt_answers():
            return ServerStatus(False, pid, self.settings.uri, "process up, Bolt not answering")
        return ServerStatus(True, pid, self.settings.uri, "running")

    def start(self, timeout_s: float = 180.0) -> ServerStatus:
        """Start the server unless it already runs; return once Bolt accepts the credentials."""
        current = self.status()
        if current.running:
            return current
        if current.pid is not None:
            return self._wait_ready(current.pid, timeout_s)
        if port_open(self.settings.port):
            raise ServerError(
                f"port {self.settings.port} is taken by a process this project did not start; "
                "stop it, or set NEO4J_URI (with NEO4J_PASSWORD) to use that server."
            )
        self.ensure_runtime()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            KGREC_NEO4J_DATA=str(self.data_dir),
            KGREC_NEO4J_PORT=str(self.settings.port),
            KGREC_NEO4J_PAGECACHE_MB=str(self.page_cache_mb),
            NEO4J_USER=self.settings.user,
            NEO4J_PASSWORD=self.settings.password,
        )
        launcher = resources.files("kgstore.server") / "KgrecNeo4j.java"
        command = [
            "java",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-cp",
            str(self.lib_dir / "*"),
            str(launcher),
        ]
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid), encoding="utf-8")
        return self._wait_ready(process.pid, timeout_s, log_offset)

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the server cleanly (SIGTERM runs Neo4j's shutdown); False if none ran."""
        pid = self._read_pid()
        if pid is None or not _alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                self.pid_file.unlink(missing_ok=True)
                return True
            time.sleep(0.2)
        raise ServerError(
            f"Neo4j (pid {pid}) did not stop within {timeout_s:.0f}s; see {self.log_file}"
        )

    def _wait_ready(
        self, pid: int, timeout_s: float, log_offset: int | None = None
    ) -> ServerStatus:
        """Wait for Bolt; for a process started here, first for the launcher's ready line.

        Bolt opens before the launcher has applied the credentials, and logging in too early
        would fail (and could trip Neo4j's lock-out after repeated failures).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise ServerError(f"Neo4j exited during start-up:\n{self._log_tail()}")
            if log_offset is not None and not self._logged_ready(log_offset):
                time.sleep(0.3)
                continue
            if self._bolt_answers():
                return ServerStatus(True, pid, self.settings.uri, "running")
            time.sleep(0.5)
        raise ServerError(f"Neo4j did not answer on {self.settings.uri} within {timeout_s:.0f}s")

    def _bolt_answers(self) -> bool:
        if not port_open(self.settings.port):
            return False
        auth = (self.settings.user, self.settings.password)
        try:
            with neo4j.GraphDatabase.driver(self.settings.uri, auth=auth) as driver:
                driver.verify_connectivity()
        except neo4j.exceptions.AuthError as error:
            raise ServerError(
                f"Neo4j on {self.settings.uri} refused the configured credentials: {error}"
            ) from error
        except (neo4j.exceptions.ServiceUnavailable, OSError):
            return False
        return True

    def _logged_ready(self, offset: int) -> bool:
        try:
            with open(self.log_file, "rb") as log:
                log.seek(offset)
                return READY_LINE in log.read()
        except FileNotFoundError:
            return False

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _alive(pid: int) -> bool:
    """True while ``pid`` is a live process running the launcher (a recycled pid is not)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        command = b""  # no procfs, or the process is gone (checked below)
    # The command line reads empty for a moment while the process execs.
    if command and b"KgrecNeo4j" not in command:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (started by this very process) counts as gone.
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return finished == 0


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
