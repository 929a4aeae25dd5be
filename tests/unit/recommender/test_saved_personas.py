"""Personas trained on another machine travel as one file per seed and are checked against
the graph they are probed on."""

from pathlib import Path

import numpy as np
import pytest

from learners.hdgi.train import TrainResult
from recommender.personas import load_persona_run, save_persona_run

USERS = np.array(["u1", "u2", "u3"], dtype=object)


def _result() -> TrainResult:
    result = TrainResult(np.arange(12, dtype=np.float32).reshape(3, 4), device="cuda")
    result.losses = [0.9, 0.5, 0.4]
    result.best_epoch = 2
    result.seconds_per_epoch = 0.025
    return result


def test_saved_personas_come_back_with_their_timing(tmp_path: Path) -> None:
    path = save_persona_run(tmp_path, "ml-100k", 1, USERS, _result())
    assert path == tmp_path / "ml-100k-seed1.npz"
    loaded = load_persona_run(tmp_path, "ml-100k", 1, USERS, 4)
    np.testing.assert_array_equal(loaded.personas, _result().personas)
    assert loaded.personas.dtype == np.float32
    assert (loaded.seconds_per_epoch, loaded.best_epoch, loaded.device) == (0.025, 2, "cuda")


def test_a_missing_seed_names_the_file(tmp_path: Path) -> None:
    save_persona_run(tmp_path, "ml-100k", 0, USERS, _result())
    with pytest.raises(FileNotFoundError, match=r"ml-100k. seed 2 at .*ml-100k-seed2\.npz"):
        load_persona_run(tmp_path, "ml-100k", 2, USERS, 4)


def test_personas_of_other_users_or_size_are_refused(tmp_path: Path) -> None:
    save_persona_run(tmp_path, "ml-100k", 0, USERS, _result())
    with pytest.raises(ValueError, match="other users, or another order"):
        load_persona_run(tmp_path, "ml-100k", 0, USERS[::-1], 4)
    with pytest.raises(ValueError, match=r"3 personas of 4 dimensions; .* 3 users .* expects 64"):
        load_persona_run(tmp_path, "ml-100k", 0, USERS, 64)
    with pytest.raises(ValueError, match=r"holds 3 personas .* the graph has 4 users"):
        load_persona_run(tmp_path, "ml-100k", 0, np.append(USERS, "u4"), 4)
