"""ServedModels: a newer bundle swapped in, a bad one never served, the database's trouble
retried."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import neo4j
import pytest

from kgstore.vocabulary import VocabularyError
from recommender.serving.bundle import BundleError
from recommender.serving.recommender import Recommender
from recommender.serving.reloading import ServedModels


def fake(version: str) -> Recommender:
    return cast(Recommender, SimpleNamespace(bundle=SimpleNamespace(info=SimpleNamespace(
        version=version))))  # fmt: skip


class Disk:
    """What LATEST names, and what loading each version gives."""

    def __init__(self, latest: str) -> None:
        self.latest = latest
        self.broken: dict[str, Exception] = {}
        self.loads: list[str] = []

    def read_latest(self) -> str:
        if self.latest == "":
            raise BundleError("no trained recommender")
        if self.latest == "half written":
            raise VocabularyError("model version '' must be 1 to 128 letters")
        return self.latest

    def load(self, version: str) -> Recommender:
        self.loads.append(version)
        if version in self.broken:
            raise self.broken[version]
        return fake(version)


def served(disk: Disk, now: list[float] | None = None) -> ServedModels:
    clock = iter(now or [float(t) for t in range(100)])
    return ServedModels(fake("v1"), disk.read_latest, disk.load, 30.0, lambda: next(clock))


def test_the_same_version_is_not_loaded_again_and_a_newer_one_is_swapped_in() -> None:
    disk = Disk("v1")
    models = served(disk)
    assert models.check() is None and disk.loads == []
    assert models.state.checked_at == 0.0 and models.state.error is None
    disk.latest = "v2"
    assert models.check() == "v2"
    assert models.current.bundle.info.version == "v2" and disk.loads == ["v2"]
    assert models.check() is None and disk.loads == ["v2"]
    assert models.state.checked_at == 2.0


def test_a_bundle_that_fails_is_never_served_nor_tried_again_until_latest_moves() -> None:
    disk = Disk("v1")
    models = served(disk)
    disk.latest = "v2"
    disk.broken["v2"] = BundleError("cannot load the recommender in v2: truncated")
    assert models.check() is None
    assert models.current.bundle.info.version == "v1"
    assert models.state.error == "cannot load the recommender in v2: truncated"
    assert models.check() is None and disk.loads == ["v2"]  # not tried again
    assert models.state.error is not None  # still said on /health
    disk.latest = "v3"
    assert models.check() == "v3" and models.state.error is None
    disk.latest = "v1"  # rolled back: the old bundle is served again
    assert models.check() == "v1"


def test_an_unavailable_database_is_retried_at_the_next_check() -> None:
    disk = Disk("v1")
    models = served(disk)
    disk.latest = "v2"
    disk.broken["v2"] = neo4j.exceptions.ServiceUnavailable("connection refused")
    assert models.check() is None
    assert "cannot check v2 against the graph now" in (models.state.error or "")
    del disk.broken["v2"]
    assert models.check() == "v2" and disk.loads == ["v2", "v2"]


def test_a_defect_while_loading_is_a_refusal_not_a_crash() -> None:
    disk = Disk("v1")
    models = served(disk)
    disk.latest = "v2"
    disk.broken["v2"] = IndexError("index 9 is out of bounds")
    assert models.check() is None and models.current.bundle.info.version == "v1"
    assert "IndexError" in (models.state.error or "")
    assert models.check() is None and disk.loads == ["v2"]


def test_a_missing_latest_keeps_the_served_bundle() -> None:
    disk = Disk("")
    models = served(disk)
    assert models.check() is None
    assert models.current.bundle.info.version == "v1"
    assert models.state.error == "cannot read which bundle is latest: no trained recommender"
    disk.latest = "half written"  # LATEST caught mid-write, or edited by hand
    assert models.check() is None
    assert "model version '' must be" in (models.state.error or "")
    disk.latest = "v1"
    assert models.check() is None and models.state.error is None


def test_a_fixed_bundle_never_reloads() -> None:
    models = ServedModels(fake("v1"), every_s=30.0)
    assert models.every_s == 0 and models.check() is None
    assert models.state.checked_at is None
    with pytest.raises(ValueError, match="go together"):
        ServedModels(fake("v1"), latest=lambda: "v2")
    with pytest.raises(ValueError, match="0 or more"):
        ServedModels(fake("v1"), lambda: "v1", fake, every_s=-1)
