"""GraphTurns: at most ``limit`` calls at once, a turn held until its call ends."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from recommender.serving.turns import GraphTurns


def test_no_more_than_the_limit_run_at_once_and_all_are_answered() -> None:
    turns = GraphTurns(2)
    lock = threading.Lock()
    now = {"running": 0, "most": 0}

    def work(i: int) -> int:
        with lock:
            now["running"] += 1
            now["most"] = max(now["most"], now["running"])
        time.sleep(0.05)
        with lock:
            now["running"] -= 1
        return i * i

    answers: dict[int, int] = {}

    async def main() -> None:
        async def one(i: int) -> None:
            answers[i] = await turns.run(lambda: work(i))

        async with anyio.create_task_group() as group:
            for i in range(6):
                group.start_soon(one, i)

    anyio.run(main)
    assert answers == {i: i * i for i in range(6)}
    assert now["most"] == 2
    assert turns.running == 0


def test_a_call_abandoned_at_its_time_limit_keeps_its_turn_until_it_ends() -> None:
    turns = GraphTurns(1)
    release = threading.Event()
    finished = threading.Event()

    def stuck() -> str:
        release.wait(5)
        finished.set()
        return "late"

    async def main() -> None:
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.1):
                await turns.run(stuck)
        # The request has given up, but its call still runs: the turn is still taken.
        assert not finished.is_set()
        assert turns.running == 1
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.2):
                await turns.run(lambda: "next")
        release.set()
        with anyio.fail_after(5):
            assert await turns.run(lambda: "next") == "next"
        assert finished.is_set()
        assert turns.running == 0

    anyio.run(main)


def test_a_request_that_gives_up_while_waiting_takes_no_turn() -> None:
    turns = GraphTurns(1)
    release = threading.Event()

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(turns.run, lambda: release.wait(5))
            await anyio.sleep(0.05)
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.05):
                    await turns.run(lambda: "never")
            assert turns.running == 1
            release.set()
        assert turns.running == 0
        assert await turns.run(lambda: "after") == "after"

    anyio.run(main)


def test_an_error_in_the_call_reaches_the_request_and_frees_the_turn() -> None:
    turns = GraphTurns(1)

    def broken() -> None:
        raise ValueError("no such user")

    async def main() -> None:
        with pytest.raises(ValueError, match="no such user"):
            await turns.run(broken)
        assert turns.running == 0

    anyio.run(main)


def test_the_limit_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GraphTurns(0)
