"""What a records folder (``kgrec experiment compare --records``) holds, in words: the peer
runs finished and in progress, and the seeds and rows recorded, so a comparison finished in
parts shows what is done and what is left."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recommender.experiments.peers.driver import COMMON, RESUME, PeerResult, PeerSpec
from recommender.experiments.scenarios import UNSEEN_PREFIX
from recommender.experiments.seedrecords import CHOICE_KEY, SeedRecords, folder_key

INPUTS = "inputs.json"  # a peer run's settings and the split's users, in its work folder
SEED_FILES = "seed*.json"  # a seed's standard or unseen-user rows
ROW_FILES = "*--seed*.json"  # one companion row of one seed


def describe(folder: Path) -> list[str]:
    """Lines describing every record under ``folder`` (empty parts left out)."""
    if not folder.is_dir():
        return [f"no records in {folder}"]
    lines = [f"records in {folder}"]
    lines += _peers(folder / "peers")
    for part, what in (("seeds", "standard rows"), ("unseen", "unseen users")):
        for key in _sets(folder / part):
            records = SeedRecords(key)
            seeds = sorted(int(path.stem.removeprefix("seed")) for path in key.glob(SEED_FILES))
            found = [r for seed in seeds if (r := records.load(seed)) is not None]
            made = sorted({r.machine for r in found})
            lines.append(
                f"{what} [{key.name}]: seeds {', '.join(str(r.seed) for r in found)}"
                + (f" (made on {'; '.join(made)})" if made else "")
                + _personas(key)
            )
    for key in _sets(folder / "rows"):
        by_row: dict[str, list[int]] = {}
        for path in sorted(key.glob(ROW_FILES)):
            row, _, seed = path.stem.rpartition("--seed")
            by_row.setdefault(row, []).append(int(seed))
        shown = "; ".join(
            f"{row} seeds {', '.join(map(str, sorted(seeds)))}" for row, seeds in by_row.items()
        )
        lines.append(f"companion rows [{key.name}]: {shown}" + _personas(key))
    choices = [p for p in (folder / "selection").glob("*.json") if not p.name.endswith(CHOICE_KEY)]
    if choices:
        lines.append(f"kgrec's configuration choice: {len(choices)} recorded")
    return lines


def _personas(key: Path) -> str:
    """The persona model a set of records was made with, where the set says (its rows are
    read only where the graph's personas are that model)."""
    described = folder_key(key)
    model = described.get("personas") if described else None
    return f"; personas {model}" if model else ""


def summary(folder: Path) -> str | None:
    """How much of a comparison a records folder holds, in one line (``None`` when it holds
    nothing): seeds and rows recorded, peer runs finished and unfinished."""
    parts = []
    for what, part, pattern, one, many in (
        ("standard rows", "seeds", SEED_FILES, "seed", "seeds"),
        ("unseen users", "unseen", SEED_FILES, "seed", "seeds"),
        ("companion rows", "rows", ROW_FILES, "row of one seed", "rows and seeds"),
    ):
        count = sum(len(list(key.glob(pattern))) for key in _sets(folder / part))
        if count:
            parts.append(f"{what}: {count} {one if count == 1 else many}")
    finished, working = _peer_runs(folder / "peers")
    if finished or working:
        parts.append(f"peer runs: {len(finished)} finished, {len(working)} in progress or stopped")
    return "; ".join(parts) or None


def _peer_runs(folder: Path) -> tuple[list[Path], list[Path]]:
    """A peers folder's finished runs (their JSON) and unfinished ones (work folders with
    their inputs, their state, or both: a run carried to another machine has only its
    state)."""
    finished = sorted(folder.glob("*.json"))
    working = sorted(
        p for p in folder.glob("*.work") if (p / INPUTS).exists() or (p / RESUME).exists()
    )
    return finished, working


def _peers(folder: Path) -> list[str]:
    finished, working = _peer_runs(folder)
    if not finished and not working:
        return []
    lines = [f"peer runs: {len(finished)} finished, {len(working)} in progress or stopped"]
    for path in finished:
        run = PeerResult.from_json(json.loads(path.read_text(encoding="utf-8")))
        lines.append(
            f"  {run.spec.name} seed {run.seed}{_scenario(run.scored_ranks)}: finished, valid "
            f"NDCG@10 {run.best_valid:.4f} "
            f"at epoch {run.best_epoch} of {len(run.curve)}, {_epoch_time(run.curve)}"
        )
    for work in working:
        state = work / RESUME
        if state.exists():
            kept = torch.load(state, map_location="cpu", weights_only=False)
            curve = kept["curve"]
            best = max(curve, key=lambda row: row[2]) if curve else None
            done = f"{len(curve)} epoch{'s' if len(curve) != 1 else ''} done" + (
                f", best valid NDCG@10 {best[2]:.4f} at epoch {int(best[0])}, {_epoch_time(curve)}"
                if best
                else ""
            )
        else:
            done = "no epoch finished"
        lines.append(f"  {_run_name(work)}: in progress or stopped, {done} ({work.name})")
    return lines


def _run_name(work: Path) -> str:
    """An unfinished peer run's model, settings and seed, from its inputs; a run carried as
    its state alone is named by its folder (its inputs are written again when it resumes)."""
    if not (work / INPUTS).exists():
        return "a run carried as its state alone"
    spec = json.loads((work / INPUTS).read_text(encoding="utf-8"))
    name = PeerSpec(spec["model"], _own(spec["settings"])).name
    return f"{name} seed {spec['seed']}{_scenario(spec.get('scored') or {})}"


def _scenario(stages: Iterable[str]) -> str:
    """How a peer run's training differs from the standard rows': trained without the
    unseen-user scenario's held-out users (it ranks their arriving histories)."""
    return " without the held-out users" if any(s.startswith(UNSEEN_PREFIX) for s in stages) else ""


def _epoch_time(curve: list[list[float]]) -> str:
    """The median seconds per epoch of a peer's curve (rows: epoch, training seconds so far,
    validation NDCG@10): a run paused or starved for a while has a few epochs far longer
    than the rest, which a mean would spread over all of them."""
    if not curve:
        return "no epoch timed"
    so_far = np.asarray([row[1] for row in curve], dtype=np.float64)
    each = np.diff(so_far, prepend=0.0)
    return f"median {float(np.median(each)):.0f} s/epoch (longest {float(each.max()):.0f} s)"


def sets_described(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The sets of seeds and rows under a records ``folder`` that say what they were made
    from (:func:`~recommender.experiments.seedrecords.folder_key`), with what they say."""
    found = []
    for part in ("seeds", "unseen", "rows"):
        for key in _sets(folder / part):
            described = folder_key(key)
            if described is not None:
                found.append((key, described))
    return found


def persona_models(folder: Path) -> set[str]:
    """The persona models the sets of seeds and rows under a records ``folder`` were made
    with, where they say."""
    return {str(d["personas"]) for _, d in sets_described(folder) if d.get("personas")}


def _own(settings: dict[str, object]) -> dict[str, object]:
    """The grid's settings of a peer run, without those every peer shares."""
    return {k: v for k, v in settings.items() if k not in COMMON}


def _sets(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
