"""A claim is exclusive while held, free again when released, and waits when asked to."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from recommender.util.locks import claim


def test_a_held_claim_excludes_another_until_released(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    with claim(lock, wait=False) as first, claim(lock, wait=False) as second:
        assert first and not second
    with claim(lock, wait=False) as again:
        assert again
    assert lock.exists()  # left in place on purpose


def test_a_waiting_claim_is_held_once_the_holder_lets_go(tmp_path: Path) -> None:
    lock, order = tmp_path / "sub" / "run.lock", []
    held = threading.Event()

    def holder() -> None:
        with claim(lock, wait=False) as mine:
            assert mine
            held.set()
            time.sleep(0.3)
            order.append("holder done")

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    with claim(lock, wait=True) as mine:
        assert mine
        order.append("waiter holds")
    thread.join()
    assert order == ["holder done", "waiter holds"]
