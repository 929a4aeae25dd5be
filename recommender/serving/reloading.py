"""The recommender a running service answers with, replaced when ``kgrec train`` publishes a
newer bundle of the dataset: no restart, no request dropped or answered by half of each.

Each request reads :attr:`ServedModels.current` once and uses that recommender to the end,
so a swap never mixes two bundles in one answer; the old bundle is freed when its last
request ends. A new bundle that cannot be loaded, or that does not match the graph (another
split, missing items), is never served: the service keeps the bundle it has, says why on
``/health``, and does not try that version again until ``LATEST`` names another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import neo4j

from recommender.serving.bundle import BundleError
from recommender.serving.recommender import Recommender

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadState:
    """What ``/health`` says about reloading."""

    every_s: float  # 0: the served bundle is fixed
    checked_at: float | None  # seconds since 1970 of the last check, None before the first
    error: str | None  # why the latest bundle is not served, None when it is


class ServedModels:
    """The served recommender and how to find a newer one.

    Args:
        current: the recommender served now.
        latest: the version the dataset's ``LATEST`` names now (a small file read); None
            for a service whose bundle is fixed (a version given on the command line).
        load: the recommender of a version's bundle, checked against the graph
            (:meth:`Recommender.load`).
        every_s: seconds between checks while serving (0: never).
        clock: the time source of ``checked_at`` (seconds since 1970).
    """

    def __init__(
        self,
        current: Recommender,
        latest: Callable[[], str] | None = None,
        load: Callable[[str], Recommender] | None = None,
        every_s: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (latest is None) != (load is None):
            raise ValueError("latest and load go together")
        if every_s < 0:
            raise ValueError(f"every_s must be 0 or more, not {every_s}")
        self._current = current
        self._latest, self._load = latest, load
        self.every_s = every_s if latest is not None else 0.0
        self._clock = clock
        self._lock = threading.Lock()
        self._refused: str | None = None  # a version that failed: not tried again
        self._error: str | None = None
        self._checked_at: float | None = None

    @property
    def current(self) -> Recommender:
        return self._current

    @property
    def state(self) -> ReloadState:
        return ReloadState(self.every_s, self._checked_at, self._error)

    def check(self) -> str | None:
        """Serve the latest bundle if it is not the one served: its version when it was
        swapped in, None otherwise. Blocking (loads models, reads the graph): call it from
        a worker thread. Never raises for a bad bundle or an unavailable database."""
        if self._latest is None or self._load is None:
            return None
        with self._lock:
            self._checked_at = self._clock()
            try:
                version = self._latest()
            except Exception as error:  # missing, unreadable, or not a version name
                self._error = f"cannot read which bundle is latest: {error}"
                return None
            if version == self._current.bundle.info.version:
                self._error = None
                return None
            if version == self._refused:
                return None
            try:
                fresh = self._load(version)
            except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError) as error:
                # The database, not the bundle: tried again at the next check.
                self._error = f"cannot check {version} against the graph now: {error}"
                return None
            except BundleError as error:
                self._refuse(version, str(error))
                return None
            except Exception as error:  # a defect must not take down the bundle being served
                _log.exception("loading %s failed", version)
                self._refuse(version, f"cannot load {version}: {error!r}")
                return None
            old = self._current.bundle.info.version
            self._current, self._refused, self._error = fresh, None, None
            _log.info("now serving %s (was %s)", fresh.bundle.info.version, old)
            return fresh.bundle.info.version

    def _refuse(self, version: str, why: str) -> None:
        self._refused, self._error = version, why
        _log.warning("not serving %s: %s", version, why)
