"""Ingestion throughput into the real Neo4j: relationships/s per dataset and batch size.

Usage:
    python benchmarks/ingest.py [--datasets ml-100k amazon-kg-books] [--batch-sizes ...]

Each configuration is a full ingest into a fresh namespace (dropped afterwards), after one
warm-up ingest so the JVM's JIT is not what gets measured. "bulk" counts the relationship
phases of at least 10,000 rows, where the time goes; "overall" counts every relationship
phase including the fixed per-phase cost (progress markers, element-id look-ups, planning).
For the default batch size two more rows: the resume path (MERGE creating every edge, as a
phase interrupted by a killed run is redone) and a forced re-run (MERGE finding every edge).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kgstore.connection import open_driver
from kgstore.datasets import load_dataset
from kgstore.graph import Database
from kgstore.ingest import DEFAULT_BATCH_SIZE, Ingestor, IngestReport
from kgstore.settings import Neo4jSettings, data_dir
from recommender.config import KgrecSettings
from recommender.util.machine import machine

BULK_ROWS = 10_000


def rates(report: IngestReport) -> tuple[float, float, int]:
    rel = [p for p in report.phases if p.phase.startswith("rel:") and not p.skipped]
    bulk = [p for p in rel if p.rows >= BULK_ROWS]
    bulk_rate = sum(p.rows for p in bulk) / sum(p.seconds for p in bulk)
    overall = sum(p.rows for p in rel) / sum(p.seconds for p in rel)
    return bulk_rate, overall, sum(p.rows for p in rel)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "amazon-kg-books"])
    parser.add_argument(
        "--batch-sizes", nargs="+", type=int, default=[1_000, 5_000, 10_000, 20_000, 50_000]
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration")
    args = parser.parse_args()

    settings = Neo4jSettings.from_env()
    home = Path(tempfile.mkdtemp(prefix="kgrec-bench-"))
    with open_driver(settings) as driver:
        version = driver.execute_query(
            "CALL dbms.components() YIELD versions RETURN versions[0] AS v"
        ).records[0]["v"]
        print(f"machine: {machine()}; Neo4j {version} at {settings.uri}")
        db, defaults = Database(driver, settings.database), KgrecSettings()
        dims = (defaults.embedding_dim, defaults.persona_dim)
        ingestor = Ingestor(db, home, *dims, progress=False)

        warm = load_dataset(data_dir() / args.datasets[0], name="bench-warmup")
        ingestor.ingest(warm)
        ingestor.drop("bench-warmup")

        extra_rows: list[str] = []
        print("| dataset | batch | rels | bulk rels/s | overall rels/s | wall s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in args.datasets:
            for batch in args.batch_sizes:
                bulk_runs, overall_runs, walls = [], [], []
                for repeat in range(args.repeats):
                    namespace = f"bench-{name}-{batch}-{repeat}"
                    data_ns = load_dataset(data_dir() / name, name=namespace)
                    runner = Ingestor(db, home, *dims, batch_size=batch, progress=False)
                    started = time.perf_counter()
                    report = runner.ingest(data_ns)
                    walls.append(time.perf_counter() - started)
                    bulk, overall, count = rates(report)
                    bulk_runs.append(bulk)
                    overall_runs.append(overall)
                    if batch == DEFAULT_BATCH_SIZE and repeat == 0:
                        again = rates(runner.ingest(data_ns, force=True))
                        runner.drop(namespace)
                        resume = rates(runner.ingest(data_ns, force=True))
                        extra_rows.append(
                            f"| {name}: resume path, MERGE creating every edge | {batch:,} | "
                            f"{count:,} | {resume[0]:,.0f} | {resume[1]:,.0f} | |"
                        )
                        extra_rows.append(
                            f"| {name}: re-run with --force, MERGE finding every edge | "
                            f"{batch:,} | {count:,} | {again[0]:,.0f} | {again[1]:,.0f} | |"
                        )
                    runner.drop(namespace)
                print(
                    f"| {name} | {batch:,} | {count:,} | {statistics.median(bulk_runs):,.0f} | "
                    f"{statistics.median(overall_runs):,.0f} | {statistics.median(walls):.1f} |",
                    flush=True,
                )
        for row in extra_rows:
            print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
