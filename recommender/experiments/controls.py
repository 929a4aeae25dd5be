"""What the knowledge graph adds, against controls that have no graph in them: the persona's
blend against blends of graph-free models, and the persona retriever against the same
retriever with shuffled or random user vectors. Each difference comes with a bootstrap
interval over users and seeds, paired tests per seed and over seeds, and Holm-adjusted
p-values for the family of comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommender.evaluation.metrics import per_user
from recommender.evaluation.statistics import (
    bootstrap_interval,
    holm,
    per_seed_wilcoxon,
    wilcoxon_p,
)
from recommender.experiments.comparison import COLD_MAX_TRAIN, RetrieverComparison
from recommender.experiments.runs import BLENDED, PLAIN_BLEND, RANDOM_BLEND, Row, variant_row
from recommender.pipelines.inputs import (
    PERSONA_RETRIEVER,
    RANDOM_RETRIEVER,
    SHUFFLED_RETRIEVER,
    for_catalogue,
)
from recommender.util.markdown import table as markdown_table

# (row with the graph, control without it): the first is the primary comparison. The
# retriever pairs come with text items and, for catalogues without text, with learned ones;
# pairs whose rows did not run are left out.
CONTROL_PAIRS = (
    (BLENDED, PLAIN_BLEND),
    (BLENDED, RANDOM_BLEND),
    *(
        (variant_row(for_catalogue((PERSONA_RETRIEVER,), text)[0]), variant_row(control))
        for text in (True, False)
        for control in for_catalogue((SHUFFLED_RETRIEVER, RANDOM_RETRIEVER), text)
    ),
)
MEASURED = (("NDCG", 10), ("HR", 100))


@dataclass(frozen=True)
class Comparison:
    """One row against its control on one metric, over the seeds both have."""

    row: Row
    control: Row
    metric: str
    mean: float  # mean over seeds and users of row - control
    low: float  # 95% bootstrap interval of that mean
    high: float
    relative: float  # mean / control's mean
    p: float  # Wilcoxon on per-user values averaged over the seeds
    p_holm: float  # p adjusted over the family (every pair on this metric)
    p_per_seed: list[float]


def per_seed_values(
    table: RetrieverComparison, row: Row, metric: str, k: int, users: np.ndarray | None = None
) -> dict[int, np.ndarray]:
    """Per seed, the per-user values of ``metric@k`` (users in the table's order; only those
    where the mask ``users`` is True, if given)."""
    return {
        run.seed: per_user(run.ranks if users is None else run.ranks[users], metric, k)
        for run in table.by_row(row)
    }


def compare_controls(
    table: RetrieverComparison,
    primary: Sequence[tuple[Row, Row]] = (),
    resamples: int = 2_000,
    seed: int = 0,
    users: np.ndarray | None = None,
) -> list[Comparison]:
    """Every pair of ``primary`` and :data:`CONTROL_PAIRS` whose two rows ran, on every
    measured metric; over the users where the mask ``users`` is True, if given (a family
    of its own: Holm adjusts over its pairs only)."""
    found: list[Comparison] = []
    for metric, k in MEASURED:
        family: list[tuple[Row, Row, np.ndarray, np.ndarray]] = []
        for row, control in dict.fromkeys([*primary, *CONTROL_PAIRS]):
            ours = per_seed_values(table, row, metric, k, users)
            theirs = per_seed_values(table, control, metric, k, users)
            seeds = sorted(set(ours) & set(theirs))
            if seeds:
                with_graph = np.stack([ours[s] for s in seeds])
                family.append((row, control, with_graph, np.stack([theirs[s] for s in seeds])))
        raw = {
            (row.key, control.key): wilcoxon_p(with_graph.mean(axis=0), without.mean(axis=0))
            for row, control, with_graph, without in family
        }
        adjusted = holm(raw)
        for row, control, with_graph, without in family:
            mean, low, high = bootstrap_interval(
                with_graph, without, resamples=resamples, seed=seed
            )
            base = float(without.mean())
            found.append(
                Comparison(
                    row,
                    control,
                    f"{metric}@{k}",
                    mean,
                    low,
                    high,
                    mean / base if base else float("nan"),
                    raw[(row.key, control.key)],
                    adjusted[(row.key, control.key)],
                    per_seed_wilcoxon(with_graph, without),
                )
            )
    return found


def controls_markdown(
    table: RetrieverComparison, primary: Sequence[tuple[Row, Row]] = ()
) -> list[str]:
    """The controls section of the report (empty when no pair ran), then the same pairs on
    the cold users alone, a family of their own (when the table has cold users)."""
    found = compare_controls(table, primary)
    if not found:
        return []
    lines = [
        "## What the knowledge graph adds, against controls",
        "",
        "Each row against a control without the graph (the first line of each metric is the "
        "primary comparison). Difference of means with a 95% bootstrap interval over users "
        "and seeds; Wilcoxon signed-rank p on per-user values averaged over the seeds, "
        "Holm-adjusted over the comparisons of one metric; and p per seed.",
        "",
        *_comparison_table(found),
    ]
    if table.cold.any():
        lines += [
            f"### Cold users only ({int(table.cold.sum()):,})",
            "",
            "The same pairs and tests on the cold users alone (at most "
            f"{COLD_MAX_TRAIN} training interactions), Holm-adjusted over this family only.",
            "",
            *_comparison_table(compare_controls(table, primary, users=table.cold)),
        ]
    return lines


def _comparison_table(found: list[Comparison]) -> list[str]:
    lines = markdown_table(
        ("row", "control", "metric", "difference [95% CI]", "relative", "p", "p (Holm)", "p/seed"),
        (
            (
                c.row.label,
                c.control.label,
                c.metric,
                f"{c.mean:+.4f} [{c.low:+.4f}, {c.high:+.4f}]",
                f"{c.relative:+.1%}",
                f"{c.p:.3g}",
                f"{c.p_holm:.3g}",
                ", ".join(f"{p:.2g}" for p in c.p_per_seed),
            )
            for c in found
        ),
        "lllrrrrl",
    )
    return [*lines, ""]
