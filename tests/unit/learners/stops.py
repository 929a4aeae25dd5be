"""A training run's process ending part-way, for the resume tests: a validation function
that raises :class:`Stopped` on its ``stop_at``-th call (counting from 0)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

Model = TypeVar("Model")


class Stopped(Exception):
    """The process ending part-way through a run."""


def stopping(validate: Callable[[Model], float], stop_at: int | None) -> Callable[[Model], float]:
    """``validate``, ending the run instead of its ``stop_at``-th call (never when None)."""
    calls = 0

    def wrapped(model: Model) -> float:
        nonlocal calls
        if calls == stop_at:
            raise Stopped
        calls += 1
        return validate(model)

    return wrapped
