"""Report sections shared by the comparison's tables: means over seeds, paired tests, the
session-graph papers' measures, popularity bias, and each scenario's section and by-length chart
(:mod:`recommender.experiments.scenarios`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from learners.popularity import HEAD_SHARE
from recommender.evaluation.metrics import mrr, per_user, precision
from recommender.evaluation.popularity import tail_measures
from recommender.evaluation.sessions import SESSION_LENGTH
from recommender.evaluation.statistics import holm, paired_wilcoxon
from recommender.experiments.comparison import RetrieverComparison
from recommender.experiments.runs import Row
from recommender.experiments.scenarios import ANONYMOUS_PREFIX, UNSEEN_PREFIX
from recommender.experiments.unseen import UNSEEN_SEED, UNSEEN_SHARE
from recommender.util.markdown import table as markdown_table

TESTED = (("NDCG", 10), ("HR", 100))


def mean_std(values: list[float]) -> str:
    """``mean ± std`` to four places; ``-`` where there is no value."""
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}" if values else "-"


def paired_p_values(
    table: RetrieverComparison, metric: str, k: int, rows: Sequence[Row] | None = None
) -> dict[tuple[Row, Row], float]:
    """Wilcoxon signed-rank p-value for every pair of ``rows`` (default: the standard
    scenario's), on each user's metric averaged over the seeds (the same users in every
    row, so the test is paired)."""
    return paired_wilcoxon(
        {
            row: np.mean([per_user(run.ranks, metric, k) for run in table.by_row(row)], axis=0)
            for row in (table.rows() if rows is None else rows)
        }
    )


SCENARIOS = {
    ANONYMOUS_PREFIX: (
        "## Scenario: anonymous sessions",
        "Each test user as an anonymous visitor: the session is their last "
        f"{SESSION_LENGTH} items before the test item, no user id reaches the models, they "
        "are left out of any neighbourhood, and the test item is ranked in the served "
        "two-stage order among the items they have not chosen. The same models as above; "
        "blend weights as their rows above chose on validation "
        "(`recommender/experiments/scenarios.py`).",
    ),
    UNSEEN_PREFIX: (
        "## Scenario: unseen users",
        f"A fixed {UNSEEN_SHARE:.0%} of the users (seed {UNSEEN_SEED}) held out of all "
        "training: their interactions are absent from the graph export HDGI trains on and "
        "from every SASRec's sequences. Their training and validation items arrive as their "
        "history, their test item is the target, ranked by the one evaluator's rule in the "
        "served two-stage order. HDGI (its default settings) and every SASRec (the settings "
        "chosen above) are trained anew without them, fusion and blend weights chosen on the "
        "other users' validation; a "
        "learned user vector cannot exist for them, and the peers are not run here "
        "(`recommender/experiments/unseen.py`).",
    ),
}


def scenario_markdown(table: RetrieverComparison, prefix: str) -> list[str]:
    """One scenario's section: its rows at k = 10 and 100, and paired tests Holm-adjusted
    over its own pairs (a family of its own)."""
    rows = table.scenario_rows(prefix)
    if not rows:
        return []
    title, description = SCENARIOS[prefix]
    users = len(table.by_row(rows[0])[0].ranks)
    lines = [title, "", description + f" {users:,} users.", ""]
    metrics = ("HR@10", "NDCG@10", "HR@100", "NDCG@100")
    lines += markdown_table(
        ("row", *metrics),
        (
            (row.label, *(mean_std([r.test[m] for r in table.by_row(row)]) for m in metrics))
            for row in rows
        ),
    )
    lines.append("")
    for metric, k in TESTED:
        found = paired_p_values(table, metric, k, rows)
        adjusted = holm(found)
        pairs = []
        for (a, b), p in found.items():
            diff = np.mean([r.test[f"{metric}@{k}"] for r in table.by_row(a)]) - np.mean(
                [r.test[f"{metric}@{k}"] for r in table.by_row(b)]
            )
            pairs.append((a.label, b.label, f"{diff:+.4f}", f"{p:.3g}", f"{adjusted[(a, b)]:.3g}"))
        lines += [f"Paired tests, {metric}@{k} (Holm over the pairs of this scenario):", ""]
        lines += markdown_table(
            ("row A", "row B", "mean A - mean B", "p", "p (Holm)"), pairs, "llrrr"
        )
        lines.append("")
    by_row = table.sweep.get(prefix)
    if by_row:
        lengths = list(next(iter(by_row.values())))
        lines += [
            "By length of the items the models read (test NDCG@10, mean ± std over seeds; "
            "the last n items before the test item, `all`: every one; no user id):",
            "",
        ]
        lines += markdown_table(
            ("row", *lengths),
            (
                (key, *(mean_std(by_length[n]) for n in lengths))
                for key, by_length in by_row.items()
            ),
        )
        lines.append("")
    return lines


PAPER_KS = (5, 10, 20)  # the cutoffs the session-graph papers (LLM-DMsRec) report


def session_paper_metrics(table: RetrieverComparison) -> list[str]:
    """P@K and MRR@K at K = 5, 10, 20, the measures the session-recommendation papers use,
    from the same test ranks (mean ± std over seeds)."""
    header = (
        "user / item representation",
        *(f"P@{k}" for k in PAPER_KS),
        *(f"MRR@{k}" for k in PAPER_KS),
    )
    rows = []
    for row in table.rows():
        runs = table.by_row(row)
        cells = [mean_std([precision(r.ranks, k) for r in runs]) for k in PAPER_KS]
        cells += [mean_std([mrr(r.ranks, k) for r in runs]) for k in PAPER_KS]
        rows.append((row.label, *cells))
    return [
        "## P@K and MRR@K (the session-graph papers' measures)",
        "",
        "The same test ranks: P@K is 1/K when the target is in the top K (one target per "
        "user), MRR@K the reciprocal rank inside the top K.",
        "",
        *markdown_table(header, rows),
        "",
    ]


def popularity_markdown(table: RetrieverComparison) -> list[str]:
    """Accuracy on tail targets, catalogue coverage and the average popularity of what each
    row recommends (mean ± std over seeds); rows that are reorderings of other rows' lists
    (rerank, blends) have no lists of their own here."""
    if not table.tail.size:
        return []
    header = ("user / item representation", "Tail HR@10", "Tail NDCG@10", "Coverage@10",
              "ARP@10")  # fmt: skip
    rows = []
    for row in table.rows():
        runs = table.by_row(row)
        tail = [tail_measures(r.ranks, table.tail) for r in runs]
        cells = [mean_std([t[key] for t in tail if key in t]) for key in header[1:3]]
        cells += [mean_std([r.lists[key] for r in runs if key in r.lists]) for key in header[3:]]
        rows.append((row.label, *cells))
    return [
        "## Popularity bias",
        "",
        f"Tail: items outside the most popular {HEAD_SHARE:.0%} of the catalogue by training "
        f"interactions; {int(table.tail.sum()):,} of the {len(table.tail):,} test users have a "
        "tail target. Coverage@10: share of the catalogue in at least one top 10; ARP@10: mean "
        "training interactions of the recommended items (lower is less popularity-biased).",
        "",
        *markdown_table(header, rows),
        "",
    ]


def length_chart(
    dataset: str, scenario: str, by_row: dict[str, dict[str, list[float]]], path: Path
) -> None:
    """A scenario's test NDCG@10 by session (history) length, one line per row (mean over
    seeds, the spread as error bars)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, by_length in by_row.items():
        lengths = list(by_length)
        means = [float(np.mean(by_length[n])) for n in lengths]
        spread = [float(np.std(by_length[n])) for n in lengths]
        ax.errorbar(range(len(lengths)), means, yerr=spread, marker="o", capsize=3, label=key)
        ax.set_xticks(range(len(lengths)), lengths)
    ax.set_xlabel("session length (items before the test item; all: the whole history)")
    ax.set_ylabel("test NDCG@10")
    ax.set_title(f"{dataset}: {scenario} by length")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
