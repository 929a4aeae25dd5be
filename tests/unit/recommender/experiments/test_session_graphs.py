"""The session-model rows: their names, the ablation each LLM-DMsRec row runs, kept intents
that reload exactly, and a kept model that reloads to the same scores."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import learners.sessiongraph
from learners.sasrec.data import SequenceData
from learners.sessiongraph.llm_dmsrec import LLMDMsRec
from recommender.config import SASRecConfig
from recommender.evaluation.evaluator import rank_users
from recommender.experiments import session_graphs
from recommender.experiments.runstore import RunStore
from recommender.experiments.session_graphs import (
    IntentSource,
    backbone_code,
    build,
    fit_session_model,
    session_scorer,
    with_intents,
)
from recommender.experiments.session_kinds import SESSION_MODELS, parse_kind
from recommender.pipelines.intents import SessionIntents


def test_every_row_name_parses_to_its_backbone_and_ablation() -> None:
    assert parse_kind("srgnn") == ("srgnn", None)
    assert parse_kind("llm-dmsrec-gcegnn") == ("gcegnn", "")
    assert parse_kind("llm-dmsrec-srgnn-no-kl") == ("srgnn", "-no-kl")
    assert len(SESSION_MODELS) == 2 + 2 * 4
    with pytest.raises(ValueError, match="unknown session model"):
        parse_kind("llm-dmsrec-sasrec")


def sequences(users: int = 5, items: int = 9) -> SequenceData:
    rows = []
    for u in range(users):
        seq = [(u + 2 * k) % items for k in range(6)]
        for p, item in enumerate(seq):
            stage = "train" if p < 4 else ("valid" if p == 4 else "test")
            rows.append((f"u{u}", f"i{item}", p, stage))
    frame = pd.DataFrame(rows, columns=["user", "item", "position", "split"])
    return SequenceData.from_split(frame, catalogue=[f"i{k}" for k in range(items)])


def intents(users: int, dim: int = 4) -> SessionIntents:
    rng = np.random.default_rng(0)
    has_e, has_l = np.arange(users) % 2 == 0, np.arange(users) % 3 == 0
    explicit = rng.normal(size=(users, dim)).astype(np.float32) * has_e[:, None]
    latent = rng.normal(size=(users, dim)).astype(np.float32) * has_l[:, None]
    return SessionIntents(explicit, latent, has_e, has_l, [("a",)] * users, 1)


def test_each_ablation_switches_off_its_part(tmp_path: Path) -> None:
    data, config = sequences(), SASRecConfig(hidden=8, max_len=5)
    found = intents(len(data.users))
    models = {
        suffix: with_intents(build("srgnn", data, config)[0], found, suffix, 8)
        for suffix in ("", "-no-explicit", "-no-latent", "-no-kl")
    }
    assert models[""].fusion.explicit and models[""].fusion.latent and models[""].align
    assert not models["-no-explicit"].fusion.explicit and models["-no-explicit"].fusion.latent
    assert not models["-no-latent"].fusion.latent and models["-no-latent"].fusion.explicit
    assert not models["-no-kl"].align and models["-no-kl"].fusion.explicit

    path = tmp_path / "intents.npz"
    found.save(path)
    again = SessionIntents.load(path)
    np.testing.assert_array_equal(again.explicit, found.explicit)
    np.testing.assert_array_equal(again.has_latent, found.has_latent)
    assert again.intents == found.intents and again.malformed == 1


class Unused:
    """A generator that must not be called: the intents are kept."""

    name = "unused"

    def generate(self, prompt: str, max_new_tokens: int = 128) -> str:
        raise AssertionError("intents were inferred again")

    def generate_many(self, prompts: list[str], max_new_tokens: int = 128) -> list[str]:
        raise AssertionError("intents were inferred again")


def test_a_kept_llm_dmsrec_row_reloads_to_the_same_ranks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sequences()
    config = SASRecConfig(hidden=8, max_len=5, epochs=2, patience=2, batch_size=4)
    store = RunStore(tmp_path / "runs")
    source = IntentSource(["", *data.items], Unused(), object(), tmp_path)  # type: ignore[arg-type]
    found = intents(len(data.users))
    monkeypatch.setattr(session_graphs, "intents_for", lambda *_: (found, "fixed"))
    first, *_ = fit_session_model(
        "llm-dmsrec-srgnn", data, config, 0, "cpu", store, False, lambda _: None, source
    )
    logs: list[str] = []
    second, *_ = fit_session_model(
        "llm-dmsrec-srgnn", data, config, 0, "cpu", store, False, logs.append, source
    )
    assert isinstance(second, LLMDMsRec) and "kept from an earlier run" in logs[-1]
    users = data.evaluable("test")
    np.testing.assert_array_equal(
        rank_users(session_scorer(first), data, "test", users),
        rank_users(session_scorer(second), data, "test", users),
    )
    stored = torch.load(next(store.folder.glob("llm-dmsrec-srgnn--*.pt")), weights_only=True)
    assert "explicit" not in stored["state"]  # inputs are rebuilt, not stored per model


def test_a_backbones_models_are_named_by_its_own_code_and_the_shared_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Editing one backbone's module renames only that backbone's models; editing a shared
    module renames both."""
    source = Path(learners.sessiongraph.__file__).parent

    def codes(edited: str | None) -> dict[str, str]:
        folder = tmp_path / (edited or "none") / "sessiongraph"
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
        if edited is not None:
            path = folder / edited
            path.write_text(path.read_text(encoding="utf-8") + "\nEDITED = 1\n", "utf-8")
        monkeypatch.setattr(learners.sessiongraph, "__file__", str(folder / "__init__.py"))
        return {kind: backbone_code(kind) for kind in ("srgnn", "gcegnn")}

    base, gce, srgnn, shared = codes(None), codes("gcegnn.py"), codes("srgnn.py"), codes("graph.py")
    assert gce["srgnn"] == base["srgnn"] and gce["gcegnn"] != base["gcegnn"]
    assert srgnn["gcegnn"] == base["gcegnn"] and srgnn["srgnn"] != base["srgnn"]
    assert shared["srgnn"] != base["srgnn"] and shared["gcegnn"] != base["gcegnn"]
