"""Records of ``kgrec experiment compare`` (``--records``): the peers run on their own
(``--peers-only``), and ``kgrec experiment records``, what a records folder holds."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kgstore.settings import SettingsError, kgrec_home
from recommender.cli import common

if TYPE_CHECKING:
    from recommender.config import SASRecConfig

R = TypeVar("R")


def register(experiments: Any) -> None:
    """Adds ``records`` to the ``kgrec experiment`` sub-parsers."""
    r = experiments.add_parser(
        "records",
        help="what a comparison's records hold: peer runs finished and in progress, seeds "
        "and rows recorded",
    )
    r.add_argument("--dataset", help="the dataset whose default records folder to read")
    r.add_argument("--records", type=Path, metavar="DIR", help="the records folder to read")
    r.set_defaults(func=cmd_records)


def default_folder(dataset: str) -> Path:
    """Where a comparison of ``dataset`` records its work unless ``--records`` says."""
    return kgrec_home() / "experiments" / "compare" / dataset / "records"


def cmd_records(args: argparse.Namespace) -> int:
    from recommender.experiments.record_listing import describe

    if (args.records is None) == (args.dataset is None):
        raise SettingsError("give either --records DIR or --dataset NAME")
    folder = args.records or default_folder(args.dataset)
    print("\n".join(describe(folder.resolve())))
    return 0


def report_other_records(folder: Path, what: dict[str, Any] | None = None) -> None:
    """Says when records beside ``folder`` exist that this run cannot use, so a user who
    expected them read knows why: for each set that says what it was made from
    (``key.json``), the fields that differ from ``what`` (other personas alone are said,
    with the command that trains them, before anything trains: :func:`say_other_personas`);
    the sets that do not say, in one line."""
    from recommender.experiments.seedrecords import code_version, folder_key

    if not folder.parent.is_dir():
        return
    others = sorted(p for p in folder.parent.iterdir() if p.is_dir() and p != folder)
    silent = []
    mine = {**what, "code": code_version()} if what is not None else None
    for other in others:
        theirs = folder_key(other)
        if mine is None or theirs is None:
            silent.append(other)
            continue
        print(
            f"records in {other} are not read: made with other {spelled_differences(mine, theirs)}"
        )
    if silent:
        print(
            f"{len(silent)} other set(s) of records in {folder.parent} were made with "
            "other settings, rows, personas or code, so this run does not read them"
            + ("" if folder.is_dir() else f"; its own go to {folder.name}/")
            + " (personas a report names: kgrec personas --reproduce MODEL)"
        )


def spelled_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> str:
    """The fields in which two records' keys differ, with both values where they are short
    (``budget 2 there, 6 here``; a settings dict field by field), else the field's name. A
    code version declared equivalent to this code's (ADR 0023) is no difference."""
    from recommender.experiments.seedrecords import code_versions, key_differences

    if "code" in mine and theirs.get("code") in code_versions():
        theirs = {**theirs, "code": mine["code"]}

    def short(value: object) -> bool:
        return value is None or (isinstance(value, int | float | str) and len(str(value)) <= 40)

    parts = []
    for name in key_differences(mine, theirs):
        there, here = theirs.get(name), mine.get(name)
        if isinstance(there, dict) and isinstance(here, dict):
            nested = [
                f"{name}.{k} {there.get(k)!r} there, {here.get(k)!r} here"
                for k in sorted(set(there) | set(here))
                if there.get(k) != here.get(k)
            ]
            parts += nested or [name]
        elif short(there) and short(here):
            parts.append(f"{name} {there!r} there, {here!r} here")
        else:
            parts.append(name)
    return "; ".join(parts)


def choice_record(folder: Path, what: dict[str, Any], log: Callable[[str], None] = print) -> Path:
    """Where kgrec's configuration choice for ``what`` is recorded under ``folder``
    (``selection/``); when it is not there yet, the choices recorded for the same sequences
    with other settings are said first, each with how they differ (a mistyped option would
    otherwise train for hours unnoticed)."""
    from recommender.experiments.seedrecords import (
        CHOICE_KEY,
        code_version,
        read_key,
        records_path,
    )

    record = records_path(folder, what, ".json", log)
    if record.exists():
        return record
    mine = {**what, "code": code_version()}
    for key_file in sorted(folder.glob(f"*{CHOICE_KEY}")):
        theirs = read_key(key_file)
        if theirs is None or theirs.get("sequences") != what.get("sequences"):
            continue
        other = key_file.with_name(key_file.name.removesuffix(CHOICE_KEY) + ".json")
        log(
            f"kgrec's configuration choice recorded in {other} is not read: made with other "
            f"{spelled_differences(mine, theirs)}; this run chooses again (give the settings "
            "it was made with to read it)"
        )
    return record


def describe_choice(record: Path, what: dict[str, Any]) -> Path | None:
    """Write, once, beside kgrec's configuration choice recorded at ``record``, what it was
    made from (:func:`~recommender.experiments.seedrecords.write_key`); None when there is
    no such record."""
    from recommender.experiments.seedrecords import CHOICE_KEY, write_key

    if not record.exists():
        return None
    name = record.name.removesuffix(".json")
    return write_key(record.with_name(name + CHOICE_KEY), name, what)


def say_other_personas(
    folder: Path, asked: dict[str, Any], dataset: str, log: Callable[[str], None] = print
) -> list[str]:
    """Before anything trains: the persona models of records under ``folder`` (a records
    folder) made from the same data, settings and text models as ``asked`` but with other
    personas, each said with the command that trains them (then those records are read).
    Returns those models."""
    from recommender.experiments.record_listing import sets_described
    from recommender.experiments.seedrecords import key_differences

    others = set()
    for _, described in sets_described(folder):
        theirs = {field: described[field] for field in asked if field in described}
        if described.get("personas") and key_differences(asked, theirs) == ["personas"]:
            others.add(str(described["personas"]))
    for model in sorted(others):
        log(
            f"records in {folder} were made with the personas {model}, not this graph's "
            f"({asked.get('personas')}), so this run trains its rows anew; to read them "
            f"instead: kgrec personas --dataset {dataset} --reproduce {model}"
        )
    return sorted(others)


def open_records(
    kind: Callable[[Path, dict[str, Any]], R],
    parent: Path,
    what: dict[str, Any],
    log: Callable[[str], None] = print,
) -> R:
    """The records of ``what`` under ``parent`` (this code's, or an equivalent code's,
    :func:`~recommender.experiments.seedrecords.records_path`), with what they are made
    from written beside them, and a word about the sets beside them this run cannot read."""
    from recommender.experiments.seedrecords import describe_folder, records_path

    folder = records_path(parent, what, log=log)
    describe_folder(folder, what)
    report_other_records(folder, what)
    return kind(folder, what)


def peers_only(
    args: argparse.Namespace,
    base: SASRecConfig,
    seeds: tuple[int, ...],
    peers: tuple[str, ...],
    cache: Path,
) -> int:
    """Only the peers' runs (kept in ``cache``), none of kgrec's models and no report: the
    grid and seeds of each peer as the full command would run them, and with ``--unseen``
    the strongest peer's runs without the unseen users."""
    import torch

    from kgstore.export import export_graph
    from kgstore.splits import in_time_order, load_split, recorded_split_hash
    from learners.sasrec.data import SequenceData
    from recommender.experiments.peers.driver import KNOWLEDGE_PEERS, recbole_python
    from recommender.experiments.peers.grid import run_peers, run_unseen_peer, strongest

    if not peers:
        raise SettingsError("--peers-only needs at least one peer after --peers")
    home = kgrec_home()
    with common.graph(args.dataset) as graph:
        export = export_graph(graph, home / "cache" / "export")
        split = load_split(home, args.dataset, recorded_split_hash(graph))
    data = SequenceData.from_split(in_time_order(split), catalogue=export.ids["Item"].tolist())
    knowledge = None
    if KNOWLEDGE_PEERS & set(peers):
        from recommender.experiments.peers.knowledge import knowledge_files

        knowledge = knowledge_files(export, progress=not args.quiet)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    python = recbole_python(args.venv or home / "bench" / "recbole-venv")
    found = run_peers(
        python, split, data, args.dataset, peers, seeds, base, device, cache, args.budget,
        knowledge=knowledge,
    )  # fmt: skip
    for model, runs in found.items():
        print(
            f"{model}: chosen {runs.selection.chosen}; valid NDCG@10 per seed "
            + ", ".join(f"{run.best_valid:.4f}" for run in runs.runs)
        )
    best = strongest(found)
    if args.unseen and best is not None:
        unseen = run_unseen_peer(
            python, split, data, args.dataset, found[best], seeds, base, device, cache,
            knowledge=knowledge,
        )  # fmt: skip
        print(f"{best} without the unseen users: {len(unseen)} run(s) kept")
    print(
        f"peer runs kept in {cache}; no report from a --peers-only run: the same command "
        "without it (and the same --records) writes the report and trains nothing the "
        "peers need again"
    )
    return 0
