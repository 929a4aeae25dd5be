"""The retriever comparison as a person reads it: markdown tables in the method's Table 3
layout, paired significance tests, a bar chart with error bars, training curves, and the
raw numbers as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from recommender.evaluation.statistics import holm
from recommender.experiments.augmentation_rows import AUGMENTED_SUFFIX
from recommender.experiments.comparison import RetrieverComparison
from recommender.experiments.controls import controls_markdown
from recommender.experiments.report_sections import (
    SCENARIOS,
    TESTED,
    length_chart,
    mean_std,
    paired_p_values,
    popularity_markdown,
    scenario_markdown,
    session_paper_metrics,
)
from recommender.experiments.runs import BLENDED, Row
from recommender.experiments.session_kinds import SESSION_MODELS
from recommender.util.files import write_text_atomic
from recommender.util.markdown import table as markdown_table

METRICS = ("HR", "NDCG", "MRR")


def markdown(
    table: RetrieverComparison,
    command: str,
    machine: str,
    title: str = "Table 3",
    sections: Sequence[str] = (),
    primary: Sequence[tuple[Row, Row]] = (),
) -> str:
    """The report: settings, the tables at k = 10 and 100, cold users, ``sections`` (e.g. the
    analysis plan and the tuning grids), the controls (``primary`` pairs first) and the
    paired tests."""
    s = table.config
    lines = [
        f"# {title} on {table.dataset}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine}; device {table.device}; {table.seconds / 60:.1f} minutes in all.",
        f"SASRec: d={s.hidden}, L={s.layers}, heads={s.heads}, dropout {s.dropout}, "
        f"max length {s.max_len}, Adam {s.lr}, batch {s.batch_size}, at most {s.epochs} epochs, "
        f"early stopping after {s.patience} epochs without a better validation NDCG@10, "
        + ("full softmax." if s.negatives is None else f"{s.negatives} sampled negatives.")
        + (
            " Description (LLM) items: the projected text embedding plus a learned per-item "
            "offset that starts at zero."
            if s.item_residual
            else " Description (LLM) items: the projected text embedding alone."
        )
        + (
            f" User vectors dropped from {s.user_dropout:.0%} of training sequences."
            if s.user_dropout
            else ""
        ),
        f"Seeds {', '.join(map(str, table.seeds))}: mean ± std. Leave-one-out test targets of "
        f"{len(table.users):,} users, full ranking over all {table.n_items:,} items (items the "
        "user has already interacted with excluded). Fusion of the user vector chosen on "
        "validation NDCG@10 (first seed): "
        + (", ".join(f"{_label(table, key)}: {f}" for key, f in table.fusion.items()) or "none")
        + "."
        + blend_sentence(table),
        "",
    ]
    for k in (10, 100):
        lines += [f"## k = {k}", ""]
        lines += markdown_table(
            ("user / item representation", *METRICS),
            (
                (
                    row.label,
                    *(mean_std([r.test[f"{m}@{k}"] for r in table.by_row(row)]) for m in METRICS),
                )
                for row in table.rows()
            ),
        )
        lines.append("")
    lines += session_paper_metrics(table)
    lines += popularity_markdown(table)
    lines += [f"## Cold users (at most 5 training interactions): {table.cold_users:,}", ""]
    if table.cold_users:
        cold = ("HR@10", "NDCG@10", "HR@100", "NDCG@100")
        lines += markdown_table(
            ("user / item representation", *cold),
            (
                (
                    row.label,
                    *(mean_std([r.cold[key] for r in table.by_row(row) if r.cold]) for key in cold),
                )
                for row in table.rows()
            ),
        )
    else:
        lines.append("No test user of this dataset is that cold.")
    lines.append("")
    lines += sections
    lines += controls_markdown(table, primary)
    for prefix in SCENARIOS:
        lines += scenario_markdown(table, prefix)
    for metric, k in TESTED:
        lines += [
            f"## Paired significance, {metric}@{k}",
            "",
            "Wilcoxon signed-rank test on per-user values averaged over the seeds; p-values, "
            "and Holm-adjusted over every pair of this table.",
            "",
        ]
        pairs = []
        found = paired_p_values(table, metric, k)
        adjusted = holm(found)
        for (a, b), p in found.items():
            diff = np.mean([r.test[f"{metric}@{k}"] for r in table.by_row(a)]) - np.mean(
                [r.test[f"{metric}@{k}"] for r in table.by_row(b)]
            )
            pairs.append((a.label, b.label, f"{diff:+.4f}", f"{p:.3g}", f"{adjusted[(a, b)]:.3g}"))
        header = ("row A", "row B", "mean A - mean B", "p", "p (Holm)")
        lines += markdown_table(header, pairs, "llrrr")
        lines.append("")
    lines += ["## Training", ""]
    rows = []
    for row in table.rows():
        runs = [run for run in table.by_row(row) if run.curve]
        if runs:
            per_epoch = np.mean([run.seconds_per_epoch for run in runs])
            epochs = ", ".join(str(run.best_epoch) for run in runs)
            rows.append((row.label, f"{per_epoch:.2f}", epochs))
    lines += markdown_table(("row", "s/epoch", "best epoch (per seed)"), rows, "lrl")
    return "\n".join(lines) + "\n"


def blend_sentence(table: RetrieverComparison) -> str:
    """How the blended row was made, with its weights, or nothing without that row."""
    weights = [run.weight for run in table.by_row(BLENDED) if run.weight is not None]
    if not weights:
        return ""
    return (
        f" {BLENDED.label}: the reranker's and the retriever's log-probabilities over the top 100, "
        "the retriever weighted by w, chosen per seed on validation NDCG@10 from 0, 0.1, ..., 1 "
        f"(w = 0 is the reranking row above, 1 the retriever alone): w = "
        + ", ".join(f"{w:g}" for w in weights)
        + "."
    )


# Colours of the chart's kinds of row (tab10's blue, red, grey, orange, green).
_KINDS = {
    "kgrec": ("kgrec", "#1f77b4"),
    "pipeline": ("the full pipeline", "#d62728"),
    "control": ("control (no graph)", "#7f7f7f"),
    "peer": ("tuned peer", "#ff7f0e"),
    "companion": ("companion method", "#2ca02c"),
}


def _kind(row: Row) -> str:
    if row.key == BLENDED.key:
        return "pipeline"
    if row.key.startswith("control-"):
        return "control"
    if row.key.startswith("peer-"):
        return "peer"
    if row.key in SESSION_MODELS or row.key.endswith(AUGMENTED_SUFFIX):
        return "companion"
    return "kgrec"


def bar_chart(table: RetrieverComparison, path: Path) -> None:
    """Every standard row's test HR and NDCG at 10 and 100, mean and std over seeds, one
    line per row with its whole name, coloured by kind (kgrec, the full pipeline, controls,
    peers, companion methods). Points, not bars: the axes start near the smallest value,
    so that differences of a few percent show."""
    keys = ("HR@10", "NDCG@10", "HR@100", "NDCG@100")
    rows = table.rows()
    height = 1.4 + 0.32 * len(rows)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys) + 2.5, height), sharey=True)
    positions = np.arange(len(rows))[::-1]  # the first row on top
    for ax, key in zip(axes, keys, strict=True):
        means = np.array([np.mean([r.test[key] for r in table.by_row(row)]) for row in rows])
        stds = np.array([np.std([r.test[key] for r in table.by_row(row)]) for row in rows])
        for position, row, mean, std in zip(positions, rows, means, stds, strict=True):
            colour = _KINDS[_kind(row)][1]
            ax.errorbar(mean, position, xerr=std, fmt="o", color=colour, capsize=3, ms=5)
        pipeline = [m for row, m in zip(rows, means, strict=True) if row.key == BLENDED.key]
        if pipeline:  # a guide to read every row against the full pipeline
            ax.axvline(pipeline[0], color=_KINDS["pipeline"][1], lw=0.8, ls=":")
        ax.set_title(key)
        ax.grid(axis="x", alpha=0.3)
        ax.set_yticks(positions)
        ax.set_yticklabels([_short(row) for row in rows], fontsize=8)
    kinds = dict.fromkeys(_kind(row) for row in rows)
    handles = [
        Line2D([], [], marker="o", ls="", color=_KINDS[k][1], label=_KINDS[k][0]) for k in kinds
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(f"{table.dataset}: test, mean ± std over {len(table.seeds)} seeds")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def curves(table: RetrieverComparison, path: Path) -> None:
    fig, (loss_ax, valid_ax) = plt.subplots(1, 2, figsize=(11, 4))
    seed = table.seeds[0]
    for row in table.rows():
        runs = [run for run in table.by_row(row) if run.curve and run.seed == seed]
        for run in runs:
            epochs = [e.epoch for e in run.curve]
            loss_ax.plot(epochs, [e.loss for e in run.curve], label=_short(row))
            valid_ax.plot(epochs, [e.valid for e in run.curve], label=_short(row))
            valid_ax.scatter([run.best_epoch], [max(e.valid for e in run.curve)], s=12)
    loss_ax.set(title="training loss", xlabel="epoch")
    valid_ax.set(title="validation NDCG@10 (dot: kept)", xlabel="epoch")
    if valid_ax.get_legend_handles_labels()[0]:
        valid_ax.legend(fontsize=8)
    fig.suptitle(f"{table.dataset}: training curves, seed {seed}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _label(table: RetrieverComparison, key: str) -> str:
    return next((row.label for row in table.rows() if row.key == key), key)


_SHORT = {
    "rerank": "Rerank",
    "blend": "Blend (KG+LLM)",
    "control-plain-blend": "Ctrl: 2 plain blend",
    "control-random-blend": "Ctrl: Random blend",
}


def _short(row: Row) -> str:
    """A row's name, short enough for a chart's axis."""
    if row.key in _SHORT:
        return _SHORT[row.key]
    if row.key.startswith("peer-"):
        return "Peer " + row.label.split("RecBole ")[-1].split(" (")[0]
    if _kind(row) == "companion":  # the method's name, without its settings
        return row.label.split(" (")[0]
    return row.label.replace("Description (LLM)", "Desc")


def notes_path(folder: Path, dataset: str, name: str = "table3") -> Path:
    """The hand-written notes a table's markdown ends with; they live in their own file
    because every run rewrites the generated table whole."""
    return folder / f"{name}-{dataset}-notes.md"


def with_notes(text: str, notes: Path) -> str:
    """``text`` followed by the notes file's content, when there is one."""
    if not notes.is_file() or not notes.read_text(encoding="utf-8").strip():
        return text
    return (
        f"{text}\n<!-- from {notes.name}, kept across runs -->\n\n"
        + notes.read_text(encoding="utf-8").strip()
        + "\n"
    )


def write_all(
    table: RetrieverComparison,
    folder: Path,
    command: str,
    machine: str,
    name: str = "table3",
    title: str = "Table 3",
    sections: Sequence[str] = (),
    primary: Sequence[tuple[Row, Row]] = (),
) -> list[Path]:
    """Markdown (ending with the notes file, if any), JSON, bar chart and curves under
    ``folder`` as ``<name>-<dataset>.*`` (see :func:`markdown`); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{name}-{table.dataset}"
    paths = [stem.with_suffix(".md"), stem.with_suffix(".json")]
    text = with_notes(
        markdown(table, command, machine, title, sections, primary),
        notes_path(folder, table.dataset, name),
    )
    write_text_atomic(paths[0], text)
    raw = {
        "dataset": table.dataset,
        "seeds": list(table.seeds),
        "users": len(table.users),
        "cold_users": table.cold_users,
        "fusion": table.fusion,
        "device": table.device,
        "by_length": table.sweep,
        "runs": [
            {
                "row": r.row.label,
                "key": r.row.key,
                "seed": r.seed,
                "fusion": r.fusion,
                "valid": r.valid,
                "test": r.test,
                "cold": r.cold,
                "best_epoch": r.best_epoch,
                "weight": r.weight,
                "lists": r.lists,
                "seconds_per_epoch": r.seconds_per_epoch,
                "curve": [[e.epoch, e.loss, e.valid, e.seconds] for e in r.curve],
            }
            for r in table.runs
        ],
    }
    write_text_atomic(paths[1], json.dumps(raw, indent=1))
    chart, curve = Path(f"{stem}.png"), Path(f"{stem}-curves.png")
    bar_chart(table, chart)
    curves(table, curve)
    charts = []
    for prefix, by_row in table.sweep.items():
        charts.append(Path(f"{stem}-{prefix.rstrip('-')}-by-length.png"))
        length_chart(table.dataset, SCENARIOS[prefix][0].removeprefix("## Scenario: "), by_row,
                     charts[-1])  # fmt: skip
    return [*paths, chart, curve, *charts]
