"""Personas trained on another machine travel as one file per seed and are checked against
the graph they are probed on."""

from pathlib import Path

import numpy as np
import pytest

from kgstore.export import GraphExport
from learners.hdgi.train import TrainResult
from recommender.experiments.saved_personas import load_persona_run, save_persona_run


def _export(users: list[str], version: str = "v1") -> GraphExport:
    export = GraphExport("ml-100k", version)
    export.ids["User"] = np.array(users, dtype=object)
    return export


def _result() -> TrainResult:
    result = TrainResult(np.arange(12, dtype=np.float32).reshape(3, 4), device="cuda")
    result.losses = [0.9, 0.5, 0.4]
    result.best_epoch = 2
    result.seconds_per_epoch = 0.025
    return result


GRAPH = _export(["u1", "u2", "u3"])


def test_saved_personas_come_back_with_their_timing(tmp_path: Path) -> None:
    path = save_persona_run(tmp_path, GRAPH, 1, _result())
    assert path == tmp_path / "ml-100k-seed1.npz"
    loaded = load_persona_run(tmp_path, GRAPH, 1, 4)
    np.testing.assert_array_equal(loaded.personas, _result().personas)
    assert loaded.personas.dtype == np.float32
    assert (loaded.seconds_per_epoch, loaded.best_epoch, loaded.device) == (0.025, 2, "cuda")


def test_a_missing_seed_names_the_file(tmp_path: Path) -> None:
    save_persona_run(tmp_path, GRAPH, 0, _result())
    with pytest.raises(FileNotFoundError, match=r"ml-100k' seed 2 at .*ml-100k-seed2\.npz"):
        load_persona_run(tmp_path, GRAPH, 2, 4)


def test_personas_of_another_graph_users_or_size_are_refused(tmp_path: Path) -> None:
    save_persona_run(tmp_path, GRAPH, 0, _result())
    with pytest.raises(ValueError, match=r"trained on graph version v1; .* is at v2"):
        load_persona_run(tmp_path, _export(["u1", "u2", "u3"], "v2"), 0, 4)
    with pytest.raises(ValueError, match="other users, or another order"):
        load_persona_run(tmp_path, _export(["u3", "u2", "u1"]), 0, 4)
    with pytest.raises(ValueError, match=r"3 personas of 4 dimensions; .* 3 users .* expects 64"):
        load_persona_run(tmp_path, GRAPH, 0, 64)
    with pytest.raises(ValueError, match=r"holds 3 personas .* the graph has 4 users"):
        load_persona_run(tmp_path, _export(["u1", "u2", "u3", "u4"]), 0, 4)


def test_a_file_of_another_kind_is_named(tmp_path: Path) -> None:
    np.savez(tmp_path / "ml-100k-seed0.npz", personas=np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="not a saved persona run: no best_epoch, device"):
        load_persona_run(tmp_path, GRAPH, 0, 4)
