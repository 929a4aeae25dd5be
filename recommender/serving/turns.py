"""Turns for work that queries Neo4j: at most ``limit`` such calls run at once, and a turn
is given back when the call itself ends, not when the request that made it stops waiting.

anyio's own limiter is released as soon as a request is abandoned at its time limit, while
the worker thread it started may go on querying the database; under a slow database the
abandoned calls would then pile up beyond the limit, which is what the limit is there to
prevent. Here the worker thread gives the turn back when its call ends; a call abandoned
before its thread started never runs and its request gives the turn back.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from enum import Enum
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread

T = TypeVar("T")


class _State(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DROPPED = "dropped"


class _Turn:
    """One call's turn: whoever settles it first (the thread starting it, or the request
    abandoning it before it started) decides who gives the turn back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State.QUEUED

    def start(self) -> bool:
        """In the worker thread: True if the call may run (its thread now owns the turn)."""
        with self._lock:
            if self._state is _State.DROPPED:
                return False
            self._state = _State.RUNNING
            return True

    def drop(self) -> bool:
        """In the request: True if the call never started (the request owns the turn)."""
        with self._lock:
            if self._state is _State.QUEUED:
                self._state = _State.DROPPED
                return True
            return False


class GraphTurns:
    """Runs blocking calls in worker threads, at most ``limit`` at once.

    Args:
        limit: how many calls may run at once (at least 1).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self._limiter = anyio.CapacityLimiter(limit)

    @property
    def running(self) -> int:
        """Calls holding a turn now, abandoned ones still running included."""
        return int(self._limiter.borrowed_tokens)

    @property
    def waiting(self) -> int:
        """Calls waiting for a turn."""
        return self._limiter.statistics().tasks_waiting

    async def run(self, function: Callable[[], T]) -> T:
        """``function()`` in a worker thread once a turn is free. Cancelling (a time limit)
        abandons the wait or the thread; a running call keeps its turn until it ends."""
        turn = _Turn()
        await self._limiter.acquire_on_behalf_of(turn)
        loop = anyio.lowlevel.current_token()

        def call() -> T:
            if not turn.start():
                raise RuntimeError("abandoned before it started")  # nobody reads this
            try:
                return function()
            finally:
                self._give_back(turn, loop)

        try:
            return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        except BaseException:
            if turn.drop():
                self._limiter.release_on_behalf_of(turn)
            raise

    def _give_back(self, turn: _Turn, loop: anyio.lowlevel.EventLoopToken) -> None:
        # RuntimeError: the event loop has closed (the service stopped), nothing left to free.
        with contextlib.suppress(RuntimeError):
            anyio.from_thread.run_sync(self._limiter.release_on_behalf_of, turn, token=loop)
