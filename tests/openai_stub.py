"""A small local server speaking the OpenAI embeddings and chat API, for tests (no network).

It is a real HTTP server on 127.0.0.1 with deterministic answers: the vector of a text is a
seeded random unit vector, the chat answer echoes the prompt's last line.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


class StubState:
    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.fail_with: int | None = None  # HTTP status to answer with
        self.fail_times: int | None = None  # answer fail_with only this many times
        self.garbage = False  # answer with invalid JSON
        self.delay_s = 0.0  # seconds each answer waits (to see requests overlap)
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests being answered at one time
        self.lock = threading.Lock()


def vector_for(text: str, dimension: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimension)
    scaled: list[float] = (vector / np.linalg.norm(vector) * 3.0).tolist()
    return scaled  # not unit: clients normalise


@contextmanager
def openai_stub(dimension: int = 8) -> Iterator[tuple[str, StubState]]:
    state = StubState(dimension)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            with state.lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                time.sleep(state.delay_s)
                self._answer()
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _answer(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append({"path": self.path, **body})
            if state.fail_with and state.fail_times != 0:
                if state.fail_times is not None:
                    state.fail_times -= 1
                self._send(state.fail_with, b'{"error": "stub failure"}')
                return
            if state.garbage:
                self._send(200, b"<html>not json</html>")
                return
            if self.path.endswith("/embeddings"):
                data = [
                    {"index": i, "embedding": vector_for(t, state.dimension)}
                    for i, t in enumerate(body["input"])
                ]
                answer: dict[str, Any] = {"data": list(reversed(data)), "model": body["model"]}
            else:
                last = body["messages"][-1]["content"].strip().splitlines()[-1]
                answer = {
                    "choices": [{"message": {"role": "assistant", "content": f"echo: {last}"}}]
                }
            self._send(200, json.dumps(answer).encode())

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
