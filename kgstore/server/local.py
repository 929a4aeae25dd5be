"""Provision the embedded Neo4j runtime with Maven and run it as a background process.

The runtime jars come from Maven Central once (``mvn dependency:copy-dependencies``); later
starts need no network. The process is the small launcher in ``KgrecNeo4j.java``, run in
Java's source-file mode, so there is nothing to compile or ship.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import neo4j

from kgstore.settings import Neo4jSettings

READY_LINE = b"kgrec-neo4j: ready"
MAVEN_TIMEOUT_S = 900.0


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

    ``start`` and ``stop`` hold an exclusive lock on ``home/server.lock``, so two of them
    never race on the pid file; everything under ``home`` is private to its owner.
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

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One start or stop at a time, across processes (released if the holder dies)."""
        _private_dir(self.home)
        fd = os.open(self.home / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

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
        _private_dir(self.home)
        partial = self.home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        with resources.as_file(resources.files("kgstore.server") / "pom.xml") as pom:
            print("kgrec: fetching Neo4j 5.26 from Maven Central (once)...", file=sys.stderr)
            try:
                result = self._maven(mvn, pom, partial)
            except subprocess.TimeoutExpired as error:
                shutil.rmtree(partial, ignore_errors=True)
                raise ServerError(
                    f"Maven did not resolve Neo4j within {MAVEN_TIMEOUT_S:.0f}s; check the "
                    "network or a proxy (MAVEN_OPTS), then run `kgrec neo4j start` again"
                ) from error
        if result.returncode != 0:
            raise ServerError(f"Maven could not resolve Neo4j:\n{result.stdout}{result.stderr}")
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        partial.rename(self.lib_dir)
        marker.touch()

    @staticmethod
    def _maven(mvn: str, pom: Path, partial: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
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
            timeout=MAVEN_TIMEOUT_S,
        )

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
        with self._locked():
            return self._start(timeout_s)

    def _start(self, timeout_s: float) -> ServerStatus:
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
        _private_dir(self.data_dir)
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
        log_fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.chmod(self.log_file, 0o600)
        with os.fdopen(log_fd, "ab") as log:
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

    def stop(self, timeout_s: float = 60.0, kill_after_s: float = 15.0) -> bool:
        """Stop the server: SIGTERM runs Neo4j's clean shutdown; a server still up after
        ``timeout_s`` gets SIGKILL (Neo4j recovers from its transaction log on the next
        start) and ``kill_after_s`` more to go. False if none ran."""
        with self._locked():
            pid = self._read_pid()
            if pid is None or not _alive(pid):
                self.pid_file.unlink(missing_ok=True)
                return False
            os.kill(pid, signal.SIGTERM)
            if not _gone_within(pid, timeout_s):
                print(
                    f"kgrec: Neo4j (pid {pid}) did not stop within {timeout_s:.0f}s; killing it",
                    file=sys.stderr,
                )
                with suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)  # the launcher leads its own session
                if not _gone_within(pid, kill_after_s):
                    raise ServerError(
                        f"Neo4j (pid {pid}) survived SIGKILL for {kill_after_s:.0f}s; "
                        f"see {self.log_file}"
                    )
            self.pid_file.unlink(missing_ok=True)
            return True

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


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return not _alive(pid)


def _private_dir(path: Path) -> None:
    """``path`` and its missing parents, readable by the owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
