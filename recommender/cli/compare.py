"""``kgrec experiment compare``: kgrec's rows, controls and tuned RecBole peers on one
dataset, every model scored by the one evaluator (see
:mod:`recommender.experiments.compare`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from kgstore.settings import SettingsError, kgrec_home
from recommender.cli import common, records
from recommender.cli.backends import (
    add_generator_backend,
    add_model_options,
    backend_options,
    intent_source,
)
from recommender.cli.experiments import prepare
from recommender.experiments.grids import BUDGET, PEERS
from recommender.experiments.session_kinds import INTENT_PREFIX, SESSION_MODELS


def cmd_compare(args: argparse.Namespace) -> int:
    import torch

    started = time.perf_counter()

    from kgstore.explain import item_titles
    from kgstore.export import count_vectors
    from kgstore.personas import persona_model
    from kgstore.splits import load_split, recorded_split_hash
    from recommender.experiments import compare
    from recommender.experiments.companions import Companions, companion_keys, companion_lines
    from recommender.experiments.comparison import RetrieverComparison, run_comparison
    from recommender.experiments.fingerprint import experiment_fingerprint, sequence_fingerprint
    from recommender.experiments.peers.driver import KNOWLEDGE_PEERS, PeerResult, recbole_python
    from recommender.experiments.peers.grid import run_peers, run_unseen_peer, strongest
    from recommender.experiments.plan import plan_text
    from recommender.experiments.report import write_all
    from recommender.experiments.runstore import RunStore
    from recommender.experiments.scenarios import session_ways
    from recommender.experiments.seedrecords import (
        RowRecords,
        SeedRecord,
        SeedRecords,
        kept_lines,
        key_settings,
    )
    from recommender.pipelines.inputs import (
        VARIANTS,
        UserVector,
        for_catalogue,
        load_inputs,
    )
    from recommender.pipelines.persona_learning import load_memory
    from recommender.util.files import write_text_atomic
    from recommender.util.hashing import array_digest
    from recommender.util.machine import accelerator, machine

    base = common.sasrec_config(args)  # checked before connecting
    if not 1 <= args.budget <= BUDGET:
        raise SettingsError(f"--budget must be from 1 to {BUDGET}, not {args.budget}")
    seeds, out, home = tuple(range(args.seeds)), Path(args.out), kgrec_home()
    run_seeds = seeds
    if args.train_seed is not None:
        if not 0 <= args.train_seed < args.seeds:
            raise SettingsError(
                f"--train-seed must be one of the run's seeds, 0 to {args.seeds - 1}, "
                f"not {args.train_seed}"
            )
        # Seed 0's models decide the fusions every later seed uses: kept, or trained first.
        run_seeds = tuple(sorted({0, args.train_seed}))
    peers = tuple(args.peers)
    if peers:  # hours each on a CPU: say what will run before it starts
        print(
            f"RecBole peers: {', '.join(peers)} (up to {args.budget} configurations each, then "
            f"{len(seeds)} seeds of the chosen one; runs already recorded are read; a bare "
            "--peers runs none)"
        )
    kinds, augment = tuple(args.session_graphs or ()), tuple(args.augment or ())
    plan = out / f"compare-{args.dataset}-plan.md"
    if plan.exists():
        print(f"analysis plan kept as written before: {plan}")
    else:
        text = plan_text(
            args.dataset, seeds, peers, args.budget, anonymous=args.anonymous,
            unseen=args.unseen, session_models=kinds, augment=augment,
        )  # fmt: skip
        write_text_atomic(plan, text)
        print(f"analysis plan written before any training: {plan}")
    kept = (args.records or records.default_folder(args.dataset)).resolve()
    cache = kept / "peers"
    if args.peers_only:
        return records.peers_only(args, base, run_seeds, peers, cache)
    with common.graph(args.dataset) as graph:
        wanted = {UserVector.NONE, UserVector.RANDOM, UserVector.PERSONA, UserVector.SHUFFLED}
        if count_vectors(graph, "User", "llm_persona"):
            wanted.add(UserVector.LLM)  # only where LLM personas were made beforehand
        export = prepare(graph, wanted, args.run)
        if export is None:
            return 2
        variants = for_catalogue(
            tuple(v for v in VARIANTS if v.user in wanted), export.has_item_text
        )
        inputs = load_inputs(graph, home, export, variants)
        split = load_split(home, args.dataset, recorded_split_hash(graph))
        personas = persona_model(graph)
        texts = sorted(graph.read("export/item_embedding_models")[0]["models"])
        # Item titles only for LLM-DMsRec's prompts.
        titles = item_titles(graph) if any(k.startswith(INTENT_PREFIX) for k in kinds) else None
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    progress = not args.quiet
    store_root = home / "experiments" / "table3" / args.dataset
    sequences = sequence_fingerprint(args.dataset, inputs.data)
    asked: dict[str, object] = {
        "sequences": sequences, "device": device.split(":")[0], "item_text": inputs.has_text,
        "personas": personas, "text_models": texts,
    }  # fmt: skip
    notices: list[str] = []  # records of earlier code declared equivalent, for the report

    def notice(line: str) -> None:
        print(line)
        notices.append(line)

    records.say_other_personas(kept, asked, args.dataset, log=notice)
    grid = {**asked, "base": key_settings(base), "budget": args.budget}
    choice = records.choice_record(kept / "selection", grid, log=notice)
    chosen, selection = compare.choose_kgrec(
        inputs, base, device, store_root, args.budget, progress, record=choice
    )
    records.describe_choice(choice, grid)
    store = RunStore(store_root / experiment_fingerprint(inputs, chosen, device))
    vectors = array_digest(
        inputs.item_features, *(inputs.user_features[k] for k in sorted(inputs.user_features))
    )
    memory = load_memory(home, args.dataset, inputs.persona_version)
    anonymous = session_ways(inputs, memory) if args.anonymous else {}
    cut = None
    if args.session_gap is not None:
        from kgstore.splits import in_time_order
        from learners.sessiongraph.sessions import SessionCut, Timeline

        timeline = Timeline.from_split(in_time_order(split), inputs.data.users)
        cut = SessionCut(timeline, args.session_gap * 3600.0)
    intents = None
    if titles is not None:
        intents = intent_source(args, titles, inputs.data.items, store_root)
    companions = Companions(kinds, intents, augment, cut=cut)
    if args.anonymous and "encoder" not in anonymous:
        print(
            "anonymous sessions: no persona memory for these personas, so no encoder row "
            "(kgrec personas --restore-memory rebuilds it)"
        )
    command = (
        f"kgrec experiment compare --dataset {args.dataset} --seeds {args.seeds} "
        f"--epochs {args.epochs} --patience {args.patience} --budget {args.budget}"
        + (f" --peers {' '.join(peers)}" if peers else " --peers")
        + (f" --device {args.device}" if args.device else "")
        + ("" if args.anonymous else " --no-anonymous")
        + (" --unseen" if args.unseen else "")
        + (f" --session-graphs {' '.join(kinds)}" if kinds else "")
        + (f" --augment {' '.join(augment)}" if augment else "")
        + (f" --session-gap {args.session_gap:g}" if cut is not None else "")
        + (backend_options(args) if intents is not None else "")
    )
    where = f"{machine()}; accelerator: {accelerator()}"
    partial = home / "experiments" / "compare" / args.dataset / "partial"

    def after_seed(so_far: RetrieverComparison) -> None:
        """Each finished seed's report, so a long run that stops still leaves one."""
        done = f"partial: {len(so_far.seeds)} of {len(seeds)} seeds, no peers yet"
        write_all(so_far, partial, command, where, name="compare", title=f"Comparison ({done})")
        print(f"report so far ({done}): {partial}")

    standard = records.open_records(SeedRecords, kept / "seeds", {
        **asked, "settings": key_settings(chosen), "rows": [v.key for v in variants],
        "anonymous": sorted(anonymous),
    }, log=notice)  # fmt: skip
    found_standard = [r for seed in run_seeds if (r := standard.load(seed)) is not None]
    # Each companion row stands alone: recorded per row and seed, so rows can be added to
    # a comparison, or a long one finished row by row, without the others training again.
    single = records.open_records(RowRecords, kept / "rows", {
        **asked, "settings": key_settings(chosen), "session_gap": args.session_gap,
        "backends": backend_options(args) if titles else "",
    }, log=notice)  # fmt: skip
    found_rows = [
        row for seed in run_seeds for key in companion_keys(companions)
        if (row := single.load(key, seed)) is not None
    ]  # fmt: skip
    comparison = run_comparison(
        inputs, chosen, run_seeds, variants, device, progress, store=store, controls=True,
        anonymous=anonymous or None, companions=companions,
        on_seed=after_seed if len(seeds) > 1 and args.train_seed is None else None,
        records=standard, record_as=(where, vectors), row_records=single,
    )  # fmt: skip
    found_unseen: list[SeedRecord] = []
    if args.unseen:
        from recommender.config import HDGIConfig
        from recommender.experiments.scenarios import UNSEEN_PREFIX
        from recommender.experiments.unseen import run_unseen
        from recommender.pipelines.persona_names import published_config

        # HDGI retrained without the held-out users as the published personas were trained
        hdgi = published_config(personas) if personas else HDGIConfig()
        scenario = records.open_records(SeedRecords, kept / "unseen", {
            **asked, "settings": key_settings(chosen), "hdgi": hdgi.model_dump(),
        }, log=notice)  # fmt: skip
        found_unseen = [r for seed in run_seeds if (r := scenario.load(seed)) is not None]
        unseen, _, by_length = run_unseen(
            inputs, export, chosen, hdgi, run_seeds, device, store_root, progress,
            records=scenario, record_as=(where, vectors),
        )  # fmt: skip
        comparison.runs.extend(unseen)
        comparison.sweep[UNSEEN_PREFIX] = by_length
    found = {}
    best: str | None = None  # the strongest peer, by validation
    unseen_peer: list[PeerResult] = []  # its runs without the unseen users
    if peers:
        python = recbole_python(args.venv or home / "bench" / "recbole-venv")
        knowledge = None
        if KNOWLEDGE_PEERS & set(peers):
            from recommender.experiments.peers.knowledge import knowledge_files

            knowledge = knowledge_files(export, progress=progress)
        found = run_peers(
            python, split, inputs.data, args.dataset, peers, run_seeds, chosen, device, cache,
            args.budget, knowledge=knowledge,
        )  # fmt: skip
        best = strongest(found)
        if args.unseen and best is not None:
            unseen_peer = run_unseen_peer(
                python, split, inputs.data, args.dataset, found[best], run_seeds, chosen,
                device, cache, knowledge=knowledge,
            )  # fmt: skip
    if args.train_seed is not None:
        print(
            f"seed {args.train_seed} is recorded in {kept} (its models kept under {home}); "
            "no report from a --train-seed run: the same command without it writes the "
            "report from the records"
        )
        return 0
    strongest_row = compare.add_peers(comparison, found)
    if best is not None and unseen_peer:
        compare.add_unseen_peer(comparison, best, unseen_peer)
    sections = [
        "## Analysis plan (as written before the run)",
        "",
        *["##" + line if line.startswith("#") else line
          for line in plan.read_text(encoding="utf-8").splitlines()[1:]],
        "",
        *compare.selection_lines(
            [selection, *(p.selection for p in found.values())], personas, chosen.user_dropout
        ),
        *compare.native_lines(found),
        *companion_lines(companions),
        *kept_lines(
            [("the standard rows", found_standard), ("unseen users", found_unseen)], found_rows,
            notices,
        ),
    ]  # fmt: skip
    # The whole command (peers, scenarios and companions included), not only the rows'
    # training; the work read from records is named in the report and not counted.
    comparison.seconds = time.perf_counter() - started
    paths = write_all(
        comparison,
        out,
        command,
        where,
        name="compare",
        title="Comparison",
        sections=sections,
        primary=compare.primary_pairs(strongest_row),
    )
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


def register(experiments: Any) -> None:
    """Adds ``compare`` to the ``kgrec experiment`` sub-parsers."""
    q = experiments.add_parser(
        "compare",
        help="kgrec's rows, controls and tuned RecBole peers, one evaluator for all",
    )
    common.add_dataset(q)
    q.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    q.add_argument(
        "--train-seed",
        type=int,
        metavar="SEED",
        help="only train (or find kept) the models of this one seed, and of seed 0 whose "
        "fusion choices it follows, then stop without a report: to spread one comparison over "
        "processes or machines that share KGREC_HOME, one --train-seed each, before the same "
        "command without it writes the report from the kept models",
    )
    common.add_sasrec_options(q, full=False)
    q.add_argument(
        "--budget",
        type=int,
        default=BUDGET,
        help=f"configurations tried per model on validation (default and most: {BUDGET})",
    )
    q.add_argument(
        "--peers",
        nargs="*",
        choices=PEERS,
        default=list(PEERS),
        help="RecBole peers (default: all; none with a bare --peers)",
    )
    q.add_argument("--venv", type=Path, help="RecBole's environment (default: under KGREC_HOME)")
    q.add_argument(
        "--records",
        type=Path,
        metavar="DIR",
        help="where finished work is recorded, as small JSON files without model weights: "
        "each peer run (peers/), each seed's standard rows (seeds/, unseen/), each companion "
        "row of each seed (rows/) and kgrec's configuration choice (selection/); default "
        "under KGREC_HOME. Records are named by "
        "the split, settings, rows and code they stand for, so a later run on any machine "
        "with the same data reads them instead of training again: point this at a folder "
        "under version control, or shared by machines, to finish a comparison too long for "
        "one machine in parts",
    )
    q.add_argument(
        "--peers-only",
        action="store_true",
        help="only the peers' runs (the grid on seed 0, then the chosen configuration's "
        "seeds; --train-seed narrows the seeds), none of kgrec's models and no report. "
        "Several such processes sharing --records share the runs out between them",
    )
    q.add_argument(
        "--anonymous",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also score the same models on anonymous sessions (default; see "
        "recommender/experiments/scenarios.py)",
    )
    q.add_argument(
        "--unseen",
        action="store_true",
        help="also the unseen-users scenario: HDGI and kgrec's SASRecs trained again without "
        "a held-out 10%% of the users, who are then scored as they arrive (costs about "
        "three more SASRec trainings per seed and one HDGI run)",
    )
    q.add_argument(
        "--session-graphs",
        nargs="+",
        choices=tuple(SESSION_MODELS),
        metavar="MODEL",
        help="also these session models as rows, with SASRec's chosen settings: srgnn, "
        "gcegnn (about ten times SASRec's time per epoch on CPU), llm-dmsrec-srgnn, "
        "llm-dmsrec-gcegnn and their ablations (suffix -no-explicit, -no-latent, -no-kl; "
        "intents inferred once per dataset: about 1 user/s with the packaged SmolLM2 on one "
        "CPU core, point --chat-endpoint at a GPU server for a real model)",
    )
    q.add_argument(
        "--augment",
        nargs="+",
        choices=("sasrec", "srgnn"),
        help="also these models retrained with counterfactual sessions a guided diffusion "
        "model draws for tail items (a few minutes of diffusion training per seed on CPU, "
        "then one more training of the model)",
    )
    q.add_argument(
        "--session-gap",
        type=float,
        metavar="HOURS",
        help="the session-graph rows cut sequences into sessions at inactivity gaps of more "
        "than HOURS (data with timestamps only); default: the whole sequence is one session",
    )
    add_model_options(q)  # LLM-DMsRec's embedder and generator
    add_generator_backend(q)
    common.add_device(q)
    q.add_argument("--out", default="docs/results", help="report folder (docs/results)")
    common.add_quiet(q)
    q.set_defaults(func=cmd_compare)
    records.register(experiments)
