"""Serving latency: ``recommend()`` in-process (with and without explanations), the app's
``POST /recommend`` in-process with and without its metrics layer, and over HTTP (``kgrec
serve`` on 127.0.0.1), plus a bounded load test that checks for errors and for steady server
memory.

Usage:
    python -m benchmarks.serve [--datasets ml-100k amazon-kg-books] [--requests 2000]
    python -m benchmarks.serve --datasets ml-100k --fault [--seconds 60] [--clients 8]

Each dataset needs a trained recommender (``kgrec train --dataset NAME``). Sessions are the
most recent training items (1 to 20) of users drawn with a fixed seed. The load test sends a
fixed number of requests from a few client threads, then stops; it only ever talks to
127.0.0.1.

``--fault`` runs the fault scenario instead: clients send requests (half of them explained,
so they need the graph) back to back for ``--seconds`` while the project's local Neo4j is
stopped a quarter of the way in and started again; errors, 503s and p99 are reported before,
during and after the outage. It restarts the project's own server, so it refuses a
configured ``NEO4J_URI``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import psutil
import torch
from fastapi.testclient import TestClient

from kgstore.connection import open_driver
from kgstore.graph import Database
from kgstore.settings import Neo4jSettings
from recommender.cli.common import local_server, models_dir, neo4j_settings
from recommender.config import ServingConfig
from recommender.serving.http import create_app
from recommender.serving.metrics import Measured
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


def metrics_overhead(recommender: Recommender, requests: int) -> tuple[list[float], list[float]]:
    """``POST /recommend`` through the app in-process (no network), alternately with and
    without its metrics layer (:class:`Measured`), the same session each time and the one
    that goes first swapped at every request, so both meet the same load: the times with
    it, then without, paired by request."""
    measured = create_app(recommender)
    assert isinstance(measured, Measured)
    work = sessions(recommender, requests + 20, seed=2)
    times: tuple[list[float], list[float]] = ([], [])
    with TestClient(measured) as with_metrics, TestClient(measured.app) as without:
        for index, session in enumerate(work):
            pairs = [(with_metrics, times[0]), (without, times[1])]
            for client, found in pairs if index % 2 else pairs[::-1]:
                started = time.perf_counter()
                answer = client.post("/recommend", json={"items": session, "k": 10})
                if index >= 20:  # the first 20: warm-up
                    found.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(dataset: str) -> tuple[subprocess.Popen[bytes], str]:
    """``kgrec serve`` in its own process on a free port, once /health answers 200. Its
    messages go to a file (a pipe nobody reads would fill and block the server); the path
    is printed."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="kgrec-serve-", suffix=".log", delete=False)  # noqa: SIM115
    print(f"  service log: {log.name}")
    server = subprocess.Popen(
        [sys.executable, "-m", "recommender.cli", "serve", "--dataset", dataset,
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.time() > deadline:
            server.terminate()
            raise RuntimeError(f"the server did not start; see {log.name}")
        time.sleep(0.5)


def over_http(
    recommender: Recommender, dataset: str, requests: int, clients: int
) -> dict[str, object]:
    server, base = start_service(dataset)
    try:
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


def fault(recommender: Recommender, dataset: str, clients: int, seconds: float) -> None:
    """Requests back to back while the local Neo4j is restarted; figures per phase."""
    server, base = start_service(dataset)
    local = local_server(neo4j_settings())
    work = sessions(recommender, 5000, seed=3)
    phase = ["before"]
    phases = ("before", "during", "after")
    results: dict[tuple[str, bool], list[tuple[float, int]]] = {
        (name, explained): [] for name in phases for explained in (False, True)
    }
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    examples: list[str] = []

    def client_loop(index: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            n = index
            while time.monotonic() < stop_at:
                explain = (n // clients) % 2 == 0  # every client alternates
                body = {"items": work[n % len(work)], "k": 10, "explain": explain}
                n += clients
                began = time.perf_counter()
                try:
                    response = client.post("/recommend", json=body)
                    status = response.status_code
                    if status not in (200, 503) and len(examples) < 3:
                        examples.append(f"{status}: {response.text[:300]}")
                except httpx.HTTPError as error:
                    status = 0  # no answer at all
                    if len(examples) < 3:
                        examples.append(f"no answer: {error!r}")
                with lock:
                    results[(phase[0], explain)].append((time.perf_counter() - began, status))

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(seconds / 4)
        phase[0] = "during"
        began = time.perf_counter()
        local.stop()
        stopped = time.perf_counter()
        time.sleep(2)
        local.start()
        timings = (stopped - began, time.perf_counter() - stopped)
        phase[0] = "after"
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"  {clients} clients; the database took {timings[0]:.1f} s to stop, then was down "
        f"and starting for {timings[1]:.1f} s"
    )
    for example in examples:
        print(f"  e.g. {example}")
    for (name, explained), found in results.items():
        if not found:
            continue
        name = f"{name}, {'explained' if explained else 'plain'}"
        times = [t for t, _ in found]
        statuses = [code for _, code in found]
        errors = sum(code not in (200, 503) for code in statuses)
        other = sorted(Counter(code for code in statuses if code not in (200, 503)).items())
        print(
            f"  {name:17s} {len(found):6,} requests, {statuses.count(503):5,} answered 503, "
            f"{errors} errors {dict(other) or ''} (other codes; 0: no answer); "
            f"{percentiles(times)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "amazon-kg-books"])
    parser.add_argument("--requests", type=int, default=2000, help="per measurement")
    parser.add_argument("--explained", type=int, default=200, help="explained requests")
    parser.add_argument("--clients", type=int, default=4, help="HTTP client threads")
    parser.add_argument(
        "--fault", action="store_true", help="the database restarted under load, instead"
    )
    parser.add_argument("--seconds", type=float, default=60, help="length of the fault run")
    args = parser.parse_args()
    if args.fault and os.environ.get("NEO4J_URI"):
        parser.error("--fault restarts the project's own Neo4j; unset NEO4J_URI")
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
            if args.fault:
                fault(recommender, dataset, args.clients, args.seconds)
                continue
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
            with_metrics, without = metrics_overhead(recommender, args.requests)
            extra = np.median(np.subtract(with_metrics, without)) * 1e6
            print(
                f"  POST /recommend in-process, metrics layer on:  {percentiles(with_metrics)}\n"
                f"  POST /recommend in-process, metrics layer off: {percentiles(without)}  "
                f"(median of the paired differences {extra:+.0f} us)"
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
