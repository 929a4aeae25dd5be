"""Serving latency: ``recommend()`` in-process (with and without explanations) and over HTTP
(``kgrec serve`` on 127.0.0.1), plus a bounded load test that checks for errors and for
steady server memory.

Usage:
    python -m benchmarks.serve [--datasets ml-100k amazon-kg-books] [--requests 2000]

Each dataset needs a trained recommender (``kgrec train --dataset NAME``). Sessions are the
most recent training items (1 to 20) of users drawn with a fixed seed. The load test sends a
fixed number of requests from a few client threads, then stops; it only ever talks to
127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import psutil
import torch

from kgstore.connection import open_driver
from kgstore.graph import Database
from kgstore.settings import Neo4jSettings
from recommender.cli.common import models_dir
from recommender.config import ServingConfig
from recommender.serving.recommender import Recommender
from recommender.util.machine import machine


def sessions(recommender: Recommender, count: int, seed: int = 0) -> list[list[str]]:
    """Up to 20 most recent training items of random users (ids), fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    histories = [h for h in recommender.bundle.histories if len(h)]
    items = recommender.bundle.items
    chosen = []
    for u in rng.integers(0, len(histories), count):
        history = histories[u]
        length = int(rng.integers(1, min(20, len(history)) + 1))
        chosen.append([str(items[i - 1]) for i in history[-length:]])
    return chosen


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms"


def in_process(recommender: Recommender, requests: int, explain: bool) -> list[float]:
    work = sessions(recommender, requests + 20, seed=1 if explain else 0)
    for session in work[:20]:  # warm-up
        recommender.recommend(session, k=10, explain=explain)
    times = []
    for session in work[20:]:
        started = time.perf_counter()
        recommender.recommend(session, k=10, explain=explain)
        times.append(time.perf_counter() - started)
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def over_http(
    recommender: Recommender, dataset: str, requests: int, clients: int
) -> dict[str, object]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "recommender.cli", "serve", "--dataset", dataset,
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the server did not start: {server.stderr.read().decode()}")  # type: ignore[union-attr]
            time.sleep(0.5)
        process = psutil.Process(server.pid)
        work = sessions(recommender, requests, seed=2)
        chunk = max(requests // 8, 1)  # memory is sampled after each chunk
        times: list[float] = []
        errors = 0
        with httpx.Client(base_url=base, timeout=30) as client, ThreadPoolExecutor(clients) as pool:

            def send(session: list[str]) -> tuple[float, int]:
                started = time.perf_counter()
                response = client.post("/recommend", json={"items": session, "k": 10})
                return time.perf_counter() - started, response.status_code

            list(pool.map(send, work[:50]))  # warm-up
            memory = [process.memory_info().rss]
            started = time.perf_counter()
            for start in range(0, requests, chunk):
                for seconds, status in pool.map(send, work[start : start + chunk]):
                    times.append(seconds)
                    errors += status != 200
                memory.append(process.memory_info().rss)
        wall = time.perf_counter() - started
        return {"times": times, "errors": errors, "memory": memory, "wall": wall}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "amazon-kg-books"])
    parser.add_argument("--requests", type=int, default=2000, help="per measurement")
    parser.add_argument("--explained", type=int, default=200, help="explained requests")
    parser.add_argument("--clients", type=int, default=4, help="HTTP client threads")
    args = parser.parse_args()
    print(f"machine: {machine()}; torch threads {torch.get_num_threads()}")
    settings = Neo4jSettings.from_env(create_local_password="NEO4J_PASSWORD" not in os.environ)
    with open_driver(settings) as driver:
        for dataset in args.datasets:
            graph = Database(driver, settings.database).graph(dataset)
            recommender = Recommender.load(graph, models_dir(), ServingConfig())
            info = recommender.bundle.info
            print(
                f"\n{dataset}: {len(recommender.bundle.items):,} items, model {info.version}, "
                f"hidden {info.retriever['hidden']}, max_len {info.retriever['max_len']}"
            )
            times = in_process(recommender, args.requests, explain=False)
            print(
                f"  recommend(k=10), in-process:     {percentiles(times)}  "
                f"{len(times) / sum(times):7.0f} req/s"
            )
            times = in_process(recommender, args.explained, explain=True)
            print(
                f"  recommend(k=10, explain=True):   {percentiles(times)}  "
                f"{len(times) / sum(times):7.0f} req/s"
            )
            result = over_http(recommender, dataset, args.requests, args.clients)
            memory = [m / 2**20 for m in result["memory"]]  # type: ignore[attr-defined]
            times = result["times"]  # type: ignore[assignment]
            print(
                f"  POST /recommend, {args.clients} clients:  {percentiles(times)}  "
                f"{len(times) / result['wall']:7.0f} req/s; errors {result['errors']} "  # type: ignore[operator]
                f"of {len(times)}"
            )
            half = memory[len(memory) // 2]
            print(
                f"  server RSS MiB after warm-up {memory[0]:.0f}, mid-run {half:.0f}, end "
                f"{memory[-1]:.0f} (growth over the second half {memory[-1] - half:+.1f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
