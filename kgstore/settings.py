"""Connection settings, read once from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_URI = "bolt://127.0.0.1:7687"


def kgrec_home() -> Path:
    """Project-local state (server jars, database files, splits); git-ignored."""
    return Path(os.environ.get("KGREC_HOME", ".kgrec")).resolve()


def data_dir() -> Path:
    """Where the public datasets live.

    ``KGREC_DATA_DIR``, or by default ``shared/datasets`` beside the project checkout.
    """
    configured = os.environ.get("KGREC_DATA_DIR")
    if configured:
        return Path(configured).resolve()
    return (Path(__file__).resolve().parent.parent.parent / "shared" / "datasets").resolve()


@dataclass(frozen=True)
class Neo4jSettings:
    """Where the graph lives and how to log in.

    Args:
        uri: Bolt URI (default ``bolt://127.0.0.1:7687``).
        user: user name (default ``neo4j``).
        password: password; never has a default in code, never in ``repr``.
        database: database name (default ``neo4j``).
        configured: whether the URI was chosen (``NEO4J_URI`` set) rather than defaulted;
            only an unconfigured local URI may start the project's own server.
    """

    uri: str
    user: str
    password: str = field(repr=False)  # never in a traceback or a log line
    database: str = "neo4j"
    configured: bool = True

    @property
    def is_local(self) -> bool:
        """True when the URI points at this machine, so the project may provision it."""
        host = urlparse(self.uri).hostname or ""
        return host in {"127.0.0.1", "localhost", "::1"}

    @property
    def port(self) -> int:
        return urlparse(self.uri).port or 7687

    @classmethod
    def from_env(cls, *, create_local_password: bool = False) -> Neo4jSettings:
        """Read ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``/``NEO4J_DATABASE``.

        Without ``NEO4J_PASSWORD``, a local server's password is the one stored (mode 0600)
        under ``KGREC_HOME`` when the project first provisioned it; ``create_local_password``
        makes a random one if there is none yet.
        """
        configured = bool(os.environ.get("NEO4J_URI"))
        uri = os.environ.get("NEO4J_URI") or DEFAULT_URI
        user = os.environ.get("NEO4J_USER", "neo4j")
        database = os.environ.get("NEO4J_DATABASE", "neo4j")
        password = os.environ.get("NEO4J_PASSWORD")
        if password is None:
            password = _local_password(create=create_local_password)
        if password is None:
            raise SettingsError(
                f"NEO4J_PASSWORD is not set and no local server has been provisioned for {uri}; "
                "set NEO4J_PASSWORD, or run `kgrec neo4j start` first."
            )
        return cls(uri=uri, user=user, password=password, database=database, configured=configured)


class SettingsError(RuntimeError):
    """The environment does not say how to reach Neo4j."""


def _local_password(*, create: bool) -> str | None:
    path = kgrec_home() / "neo4j" / "password"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not create:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    password = secrets.token_urlsafe(18)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password)
    return password
