"""Each finished seed of a comparison kept as a small record: every row's metrics and
per-user test ranks, the fusions chosen, the scenario sweeps. No model weights, so a record
is a few kilobytes to a few megabytes and can live under version control: a comparison
too long for one machine's life is finished seed by seed, on any machine with the same
data, and its report rebuilt from the records without training anything again.

A record is found again by a key (:func:`records_key`) naming what its rows were made
from: the split, the settings, the rows asked for and the code that trains and scores
them; a later version of that code declared to train and score exactly as it did
(:data:`EQUIVALENT`) reads its records too (:func:`records_path`). The user and item
vectors are not in the key: they are floating-point results that differ in their last bits
from one processor to another; each record names the machine and the vectors' digest it
was made with instead, and the report lists them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

import learners
import recommender.evaluation
import recommender.experiments
import recommender.pipelines
from learners.epochs import EpochLog
from learners.sasrec.model import Fusion
from recommender.config import SASRecConfig
from recommender.experiments.runs import Row, RunResult
from recommender.util.files import write_text_atomic
from recommender.util.hashing import code_digest, fingerprint

# Sweep of one seed: row key -> history length ("all" for the whole history) -> NDCG@10.
SeedSweep = dict[str, dict[str, float]]


@dataclass
class SeedRecord:
    """One seed's results, and where they were made."""

    seed: int
    runs: list[RunResult]
    fusion: dict[str, Fusion]  # row key -> fusion chosen on validation (seed 0 chooses)
    sweep: SeedSweep = field(default_factory=dict)
    machine: str = ""
    inputs: str = ""  # digest of the user and item vectors the models read
    made: str = ""  # when, ISO 8601 (UTC)


# Modules of this package that only present, plan or list results: changing them leaves
# records valid.
PRESENTATION = frozenset(
    {"report.py", "report_sections.py", "seedrecords.py", "plan.py", "record_listing.py"}
)
# The script RecBole's own environment runs for each peer run: no kgrec row imports it, and
# peer runs are recorded under the split alone (ADR 0016), so it does not name kgrec's.
PEER_ONLY = frozenset({"recbole_runner.py"})


def code_version() -> str:
    """Digest of the code that trains and scores a comparison's rows (docstrings, comments
    and formatting excluded): any other change makes earlier records stale."""
    folders = [Path(next(iter(m.__path__))) for m in (learners, recommender.pipelines,
                                                       recommender.evaluation)]  # fmt: skip
    experiments = Path(next(iter(recommender.experiments.__path__)))
    files = [p for p in sorted(experiments.rglob("*.py")) if p.name not in PRESENTATION | PEER_ONLY]
    return code_digest(*folders, *files)


# Code versions that read an earlier version's records as their own (ADR 0023): each entry
# maps a version to the earlier one it trains and scores every row exactly as. An entry is
# added only with the evidence: `python -m benchmarks.same_training --base <earlier commit>`
# reporting "same training: yes" on a real dataset, its output in the ADR.
EQUIVALENT: dict[str, str] = {
    # training windows' stride option (default unchanged), per-epoch state kept, one epoch
    # loop for SASRec and the session-graph models, kgrec train's stride entry
    "15e84d524bca1d3a": "56f57af70f299536",
    # the digest stops reading the peer runner (PEER_ONLY), no row's code changed
    "8edb5e6e28cac428": "15e84d524bca1d3a",
    # kgrec train may leave the stride entry out (pipelines/training.py, which no row runs)
    "8367014603483fc7": "8edb5e6e28cac428",
    # kgrec personas --reproduce, and the attention it reports (learn_personas, which no
    # row runs)
    "30b1b5aaa8ee9e93": "8367014603483fc7",
    # kgrec personas says how far its choice is ahead of the next candidate (learn_personas)
    "f4f002c8e4d43f16": "30b1b5aaa8ee9e93",
    # the persona choice's helpers moved to pipelines/persona_choice.py (only
    # learn_personas, which no row runs, calls them)
    "d4a9602726cc8e0b": "f4f002c8e4d43f16",
    # concurrent requests to a chat endpoint (OpenAIChatGenerator, which no recorded row ran)
    "cb98b3bd3f0f888b": "d4a9602726cc8e0b",
}


def code_versions() -> list[str]:
    """This code's version, then each earlier version declared equivalent to it (through
    :data:`EQUIVALENT`, one after another), newest first."""
    versions = [code_version()]
    while (earlier := EQUIVALENT.get(versions[-1])) is not None and earlier not in versions:
        versions.append(earlier)
    return versions


# Settings added after records were first made, with the value that trains as before they
# existed: a key names them only when they are set to something else, so adding a setting
# leaves earlier records found.
LATER_SETTINGS: dict[str, object] = {"window_stride": None}


def key_settings(config: SASRecConfig) -> dict[str, Any]:
    """``config`` as a records key names it: every setting, less those of
    :data:`LATER_SETTINGS` at the value that trains as before them."""
    return {
        k: v
        for k, v in config.model_dump().items()
        if not (k in LATER_SETTINGS and v == LATER_SETTINGS[k])
    }


def records_key(what: dict[str, Any], version: str | None = None) -> str:
    """The key of a comparison's records: ``what`` it was asked for (split fingerprint,
    settings, rows, ...) and the code's version (default: this code's)."""
    return fingerprint({**what, "code": version or code_version()})


def records_path(
    parent: Path, what: dict[str, Any], suffix: str = "", log: Callable[[str], None] = print
) -> Path:
    """Where the records of ``what`` are under ``parent``: this code's, or else those of the
    newest earlier version declared equivalent that has any (said through ``log``), or, when
    there are none yet, where this code's go."""
    current, *earlier = code_versions()
    own = parent / f"{records_key(what, current)}{suffix}"
    if own.exists():
        return own
    for version in earlier:
        path = parent / f"{records_key(what, version)}{suffix}"
        if path.exists():
            log(f"records made by code {version}, which this code ({current}) trains and "
                f"scores exactly as (declared equivalent, ADR 0023): {path}")  # fmt: skip
            return path
    return own


KEY_FILE = "key.json"  # in a folder of records: the fields its name digests
CHOICE_KEY = ".key.json"  # beside a recorded choice (selection/KEY.json), the same for it


def describe_folder(folder: Path, what: dict[str, Any]) -> Path | None:
    """Write, once, what the records in ``folder`` were made from (``what`` and the code
    version that, with it, gives the folder's name), so that a reader, or a later run that
    cannot read them, can tell why. Returns the file, or None when ``folder`` does not exist
    yet or its name is not the key of ``what`` under this code or one declared equivalent."""
    if not folder.is_dir():
        return None
    return write_key(folder / KEY_FILE, folder.name, what)


def write_key(path: Path, name: str, what: dict[str, Any]) -> Path | None:
    """Write, once, ``what`` and the code version under which it is the key ``name`` to
    ``path``; None when ``name`` is the key of ``what`` under no version this code reads."""
    if path.exists():
        return path
    for version in code_versions():
        if records_key(what, version) == name:
            text = json.dumps({**what, "code": version}, indent=1, sort_keys=True, default=str)
            return write_text_atomic(path, text + "\n")
    return None


def read_key(path: Path) -> dict[str, Any] | None:
    """What a key file (:func:`write_key`) says records were made from; None when there is
    no readable one."""
    try:
        described = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return described if isinstance(described, dict) else None


def folder_key(folder: Path) -> dict[str, Any] | None:
    """What ``folder``'s records were made from (:func:`describe_folder`), if it says."""
    return read_key(folder / KEY_FILE)


def key_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The fields of two records' keys that differ, in order of name."""
    fields = sorted(set(mine) | set(theirs))
    return [
        f
        for f in fields
        if f not in mine or f not in theirs or fingerprint(mine[f]) != fingerprint(theirs[f])
    ]


class SeedRecords:
    """The records of one comparison (one key), one JSON file per seed.

    Args:
        folder: where the records live; created on the first save.
        what: what they are made from (the key's fields), written beside them
            (:func:`describe_folder`) on each save when given.
    """

    def __init__(self, folder: Path, what: dict[str, Any] | None = None) -> None:
        self.folder = folder
        self.what = what
        self._read: dict[int, SeedRecord] = {}  # each file parsed once

    def path(self, seed: int) -> Path:
        return self.folder / f"seed{seed}.json"

    def load(self, seed: int) -> SeedRecord | None:
        if seed in self._read:
            return self._read[seed]
        path = self.path(seed)
        if not path.exists():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        self._read[seed] = SeedRecord(
            seed=int(raw["seed"]),
            runs=[_run_from_json(run) for run in raw["runs"]],
            fusion={str(k): cast(Fusion, v) for k, v in raw["fusion"].items()},
            sweep={
                str(k): {str(n): float(v) for n, v in by.items()} for k, by in raw["sweep"].items()
            },
            machine=str(raw.get("machine", "")),
            inputs=str(raw.get("inputs", "")),
            made=str(raw.get("made", "")),
        )
        return self._read[seed]

    def save(self, record: SeedRecord) -> Path:
        """Written atomically; ``made`` is set to now when empty."""
        made = record.made or _now()
        raw = {
            "seed": record.seed,
            "runs": [_run_to_json(run) for run in record.runs],
            "fusion": record.fusion,
            "sweep": record.sweep,
            "machine": record.machine,
            "inputs": record.inputs,
            "made": made,
        }
        path = write_text_atomic(self.path(record.seed), json.dumps(raw, separators=(",", ":")))
        if self.what is not None:
            describe_folder(self.folder, self.what)
        return path


@dataclass
class RowRecord:
    """One row of one seed, recorded on its own, and where it was made."""

    run: RunResult
    machine: str = ""
    inputs: str = ""
    made: str = ""


class RowRecords:
    """Runs of rows that stand alone (the companion rows), one JSON file per row and seed.

    Args:
        folder: where the records live; created on the first save.
        what: what they are made from (the key's fields), written beside them
            (:func:`describe_folder`) on each save when given.
    """

    def __init__(self, folder: Path, what: dict[str, Any] | None = None) -> None:
        self.folder = folder
        self.what = what
        self._read: dict[tuple[str, int], RowRecord] = {}  # each file parsed once

    def path(self, key: str, seed: int) -> Path:
        return self.folder / f"{key}--seed{seed}.json"

    def load(self, key: str, seed: int) -> RowRecord | None:
        if (key, seed) in self._read:
            return self._read[key, seed]
        path = self.path(key, seed)
        if not path.exists():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        self._read[key, seed] = RowRecord(
            _run_from_json(raw["run"]),
            str(raw.get("machine", "")),
            str(raw.get("inputs", "")),
            str(raw.get("made", "")),
        )
        return self._read[key, seed]

    def save(self, run: RunResult, machine: str = "", inputs: str = "") -> Path:
        raw = {
            "run": _run_to_json(run),
            "machine": machine,
            "inputs": inputs,
            "made": _now(),
        }
        path = write_text_atomic(
            self.path(run.row.key, run.seed), json.dumps(raw, separators=(",", ":"))
        )
        if self.what is not None:
            describe_folder(self.folder, self.what)
        return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def add_sweep(sweep: dict[str, dict[str, list[float]]], seed_sweep: SeedSweep) -> None:
    """One seed's sweep appended to the sweep over seeds."""
    for key, by_length in seed_sweep.items():
        for length, value in by_length.items():
            sweep.setdefault(key, {}).setdefault(length, []).append(value)


def kept_lines(
    seeds: list[tuple[str, list[SeedRecord]]],
    rows: list[RowRecord] | None = None,
    equivalent: list[str] | None = None,
) -> list[str]:
    """A report section naming what was read from records and where it was made: whole
    seeds, per part of the comparison (``(what, records)`` pairs), and single rows; with
    ``equivalent``, the folders made by earlier code declared equivalent
    (:func:`records_path`'s notices)."""
    found = [
        (f"{what}, seed {r.seed}", r.made, r.machine, r.inputs) for what, records in seeds
        for r in records
    ] + [
        (f"{r.run.row.label}, seed {r.run.seed}", r.made, r.machine, r.inputs)
        for r in rows or []
    ]  # fmt: skip
    if not found:
        return []
    lines = [
        "## Read from records",
        "",
        "These were read from their records, not trained in this run: the same split, "
        "settings, rows and code. Their user and item vectors are those of the machine that "
        "made them (the digest names them; the same digest, the same vectors).",
        "",
    ]
    for what, made, machine, vectors in found:
        lines.append(
            f"- {what}: made {made} on {machine or 'an unnamed machine'}; "
            f"vectors {vectors or 'unrecorded'}"
        )
    if equivalent:
        lines += [
            "",
            "Some records were made by an earlier version of the code, one declared to train "
            "and score every row exactly as this one (ADR 0023, with the check that shows it):",
            "",
            *[f"- {notice}" for notice in equivalent],
        ]
    return [*lines, ""]


def _run_to_json(run: RunResult) -> dict[str, Any]:
    return {
        "key": run.row.key,
        "label": run.row.label,
        "seed": run.seed,
        "fusion": run.fusion,
        "valid": run.valid,
        "test": run.test,
        "cold": run.cold,
        "ranks": np.asarray(run.ranks, np.int64).tolist(),
        "curve": [[e.epoch, e.loss, e.valid, e.seconds] for e in run.curve],
        "seconds_per_epoch": run.seconds_per_epoch,
        "best_epoch": run.best_epoch,
        "weight": run.weight,
        "lists": run.lists,
    }


def _run_from_json(raw: dict[str, Any]) -> RunResult:
    return RunResult(
        row=Row(str(raw["key"]), str(raw["label"])),
        seed=int(raw["seed"]),
        fusion=cast(Fusion | None, raw["fusion"]),
        valid={str(k): float(v) for k, v in raw["valid"].items()},
        test={str(k): float(v) for k, v in raw["test"].items()},
        cold=None if raw["cold"] is None else {str(k): float(v) for k, v in raw["cold"].items()},
        ranks=np.asarray(raw["ranks"], np.int64),
        curve=[EpochLog(int(e), float(loss), float(v), float(s)) for e, loss, v, s in raw["curve"]],
        seconds_per_epoch=float(raw["seconds_per_epoch"]),
        best_epoch=int(raw["best_epoch"]),
        weight=None if raw["weight"] is None else float(raw["weight"]),
        lists={str(k): float(v) for k, v in raw["lists"].items()},
    )
