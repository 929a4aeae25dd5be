"""Where does the persona help? A comparison's recorded per-user ranks, by user group.

Reads the standard rows of a finished ``kgrec experiment compare`` (its records folder,
every seed) and the dataset's recorded split, and splits the test users into groups of
about equal size twice (users of one value stay together, so ties can leave fewer): by the
length of their training history, and by how mainstream it is (the mean training
popularity of their items, as a log count). For each group it gives, over
seeds and users, the NDCG@10 of the persona retriever, of the same retriever with a learned
random user vector and with none, and of the blend (kgrec's full pipeline) against the
ensembling controls, with paired 95% bootstrap intervals (users and seeds resampled) and
Holm-adjusted Wilcoxon p-values over every group and pair.

It trains nothing and reads test figures already reported in the comparison, so what it
shows is descriptive and post hoc: it says where a difference lies, not that a setting
chosen from it would help.

Usage:
    python -m benchmarks.persona_by_user --dataset ml-100k \\
        --records docs/results/records/ml-100k [--groups 4] [--out docs/results]

The dataset must be in the graph with the split the records were made on.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import plain_inputs
from kgstore.connection import open_driver
from kgstore.graph import Database
from kgstore.settings import Neo4jSettings
from recommender.evaluation.statistics import bootstrap_interval, holm, wilcoxon_p
from recommender.util.machine import machine
from recommender.util.markdown import table

# (row, row it is measured against, what the difference isolates); a row the records lack
# is skipped. The persona rows come with text items (-text) or learned ones (-id).
PAIRS = (
    ("persona-{v}", "random-{v}", "persona against a learned random user vector"),
    ("persona-{v}", "none-{v}", "persona against no user vector"),
    ("blend", "control-plain-blend", "full pipeline against control (a), two plain SASRecs"),
    ("blend", "control-random-blend", "full pipeline against control (b), random vector"),
)


@dataclass
class Difference:
    """One pair of rows on one group of users."""

    grouping: str
    group: str
    row: str
    baseline: str
    what: str
    users: int
    row_mean: float
    baseline_mean: float
    diff: float
    low: float
    high: float
    p: float  # Holm-adjusted within the page's family; raw for the "all" groups


@dataclass
class Grouping:
    """Users cut into groups of about equal size by one value per user."""

    name: str
    values: np.ndarray  # per evaluated user
    unit: str

    def groups(self, count: int) -> list[tuple[str, np.ndarray]]:
        edges = np.quantile(self.values, np.linspace(0, 1, count + 1))
        found = np.clip(np.searchsorted(edges[1:-1], self.values, side="right"), 0, count - 1)
        groups = []
        for g in range(count):
            members = np.flatnonzero(found == g)
            if len(members):
                low, high = self.values[members].min(), self.values[members].max()
                groups.append((f"{low:.3g}" if low == high else f"{low:.3g}-{high:.3g}", members))
        return groups


def ndcg10(ranks: np.ndarray) -> np.ndarray:
    """Per-user NDCG@10 from 0-based ranks."""
    return np.where(ranks < 10, 1.0 / np.log2(np.asarray(ranks, float) + 2.0), 0.0)


def read_rows(records: Path) -> dict[str, np.ndarray]:
    """Each standard row's ``(seeds, users)`` per-user NDCG@10 from the records' one set of
    seeds."""
    sets = sorted(p for p in (records / "seeds").glob("*") if p.is_dir())
    if len(sets) != 1:
        raise SystemExit(f"{records / 'seeds'} holds {len(sets)} sets of seeds; need exactly 1")
    seeds = sorted(sets[0].glob("seed*.json"))
    per_seed = [
        {run["key"]: ndcg10(np.array(run["ranks"])) for run in json.loads(p.read_text())["runs"]}
        for p in seeds
    ]
    keys = set.intersection(*(set(s) for s in per_seed))
    print(f"records: {sets[0]} ({len(seeds)} seeds)")
    return {key: np.stack([s[key] for s in per_seed]) for key in sorted(keys)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--out", type=Path, help="write persona-by-user-DATASET.{md,png} here")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = read_rows(args.records)
    settings = Neo4jSettings.from_env()
    with open_driver(settings) as driver:
        data = plain_inputs(Database(driver, settings.database).graph(args.dataset)).data
    users = data.evaluable("test")
    width = {len(v[0]) for v in rows.values()}
    if width != {len(users)}:
        raise SystemExit(f"records rank {width} users, the split has {len(users)} to test")
    popularity = np.bincount(np.concatenate(data.train), minlength=data.n_items + 1)
    groupings = [
        Grouping("training history length", np.array([len(data.train[u]) for u in users]), "items"),
        Grouping(
            "mainstreamness", np.array([np.log(popularity[data.train[u]]).mean() for u in users]),
            "mean log training count of the user's items",
        ),
    ]  # fmt: skip
    v = "text" if "persona-text" in rows else "id"
    pairs = [
        (a.format(v=v), b.format(v=v), what)
        for a, b, what in PAIRS
        if a.format(v=v) in rows and b.format(v=v) in rows
    ]
    found: list[Difference] = []
    for grouping in groupings:
        for label, idx in [("all", np.arange(len(users))), *grouping.groups(args.groups)]:
            for a, b, what in pairs:
                diff, low, high = bootstrap_interval(rows[a][:, idx], rows[b][:, idx])
                p = wilcoxon_p(rows[a][:, idx].mean(0), rows[b][:, idx].mean(0))
                means = float(rows[a][:, idx].mean()), float(rows[b][:, idx].mean())
                found.append(
                    Difference(grouping.name, label, a, b, what, len(idx), *means, diff, low,
                               high, p)
                )  # fmt: skip
    family = [d for d in found if d.group != "all"]
    adjusted = holm({i: d.p for i, d in enumerate(family)})
    for i, d in enumerate(family):
        d.p = adjusted[i]
    lines = _markdown(args, found, groupings, len(rows[pairs[0][0]]))
    print("\n".join(lines))
    if args.out is not None:
        stem = args.out / f"persona-by-user-{args.dataset}"
        stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
        _chart(found, groupings, stem.with_suffix(".png"), args.dataset)
        print(f"written: {stem}.md, {stem}.png")
    return 0


def _markdown(
    args: argparse.Namespace, found: list[Difference], groupings: list[Grouping], seeds: int
) -> list[str]:
    lines = [
        f"# Where the persona helps on {args.dataset}: per-user test NDCG@10 by user group",
        "",
        "Descriptive and post hoc: the comparison's recorded test ranks, split after the",
        "fact; nothing was trained or chosen from this page.",
        "",
        f"Command: `python -m benchmarks.persona_by_user --dataset {args.dataset} "
        f"--records {args.records} --groups {args.groups} --out {args.out}`",
        f"({seeds} seeds; machine: {machine()}).",
        "",
        "Differences are row minus baseline, NDCG@10, mean over seeds and users, with a 95%",
        "bootstrap interval (users and seeds resampled); p: paired Wilcoxon on seed-averaged",
        "per-user values, Holm-adjusted over every group and pair of this page (the 'all'",
        "rows, the comparison's own figures, are not in the family).",
    ]
    for grouping in groupings:
        count = len({d.group for d in found if d.grouping == grouping.name} - {"all"})
        lines += ["", f"## By {grouping.name} ({grouping.unit}), {count} groups", ""]
        body = [
            [
                d.group, f"{d.users:,}", f"{d.row} vs {d.baseline}", f"{d.row_mean:.4f}",
                f"{d.baseline_mean:.4f}",
                f"{d.diff:+.4f} ({100 * d.diff / d.baseline_mean:+.1f}%)"
                if d.baseline_mean else f"{d.diff:+.4f}",
                f"[{d.low:+.4f}, {d.high:+.4f}]",
                f"{d.p:.3g}" + (" (raw)" if d.group == "all" else ""),
            ]
            for d in found
            if d.grouping == grouping.name
        ]  # fmt: skip
        lines += table(
            ["group", "users", "pair", "row", "baseline", "difference", "95% interval", "p"],
            body,
        )
    return lines


def _chart(found: list[Difference], groupings: list[Grouping], path: Path, dataset: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(dict.fromkeys((d.row, d.baseline, d.what) for d in found))
    fig, axes = plt.subplots(1, len(groupings), figsize=(6 * len(groupings), 4), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, grouping in zip(axes, groupings, strict=True):
        groups: list[str] = []
        for offset, (a, b, what) in enumerate(pairs):
            shown = [
                d for d in found
                if (d.grouping, d.row, d.baseline) == (grouping.name, a, b) and d.group != "all"
            ]  # fmt: skip
            groups = [d.group for d in shown]
            x = np.arange(len(shown)) + (offset - (len(pairs) - 1) / 2) * 0.18
            err = np.array([[d.diff - d.low for d in shown], [d.high - d.diff for d in shown]])
            ax.errorbar(x, [d.diff for d in shown], yerr=err, fmt="o", capsize=3, label=what)
        ax.set_xticks(range(len(groups)), groups)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel(f"{grouping.name} ({grouping.unit})")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("NDCG@10 difference (test, 95% interval)")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{dataset}: where the persona and the full pipeline differ, by user group")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
