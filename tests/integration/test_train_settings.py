"""`kgrec personas` and `kgrec train` on a dataset a user brings in the table format: the
settings they use are chosen on that dataset's validation split and recorded (on the users'
persona model and in the bundle)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from kgstore.explain import user_persona
from kgstore.graph import Database
from kgstore.personas import persona_model
from kgstore.settings import Neo4jSettings
from recommender.cli import main
from recommender.config import HDGI_GRID, TRAIN_GRID, USER_DROPOUT_GRID, SASRecConfig


def _table(folder: Path) -> Path:
    folder.mkdir()
    (folder / "interactions.csv").write_text(
        "user,item,timestamp\n"
        + "".join(f"u{u},p{(u * 5 + k * 3) % 25},{k}\n" for u in range(30) for k in range(8))
    )
    (folder / "items.csv").write_text(
        "item,title,kind\n" + "".join(f"p{i},Product {i},kind {i % 4}\n" for i in range(25))
    )
    return folder


def test_train_chooses_and_records_settings_on_validation(
    neo4j_settings: Neo4jSettings, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_settings.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password)
    monkeypatch.setenv("KGREC_HOME", str(tmp_path / "home"))
    name = f"test-shop-{uuid.uuid4().hex[:8]}"
    folder = _table(tmp_path / "shop")
    try:
        assert main(["ingest", name, "--path", str(folder), "--quiet"]) == 0
        assert main(["embed", "--dataset", name, "--quiet", "--threads", "1"]) == 0
        # The training length is chosen on validation and named on the persona model.
        assert main(["personas", "--dataset", name, "--quiet"]) == 0
        model = persona_model(db.graph(name))
        assert model is not None
        lengths = {
            f"epochs{c.get('epochs', 800)}-patience{c.get('patience', 100)}" for c in HDGI_GRID
        }
        family, chosen = model.split(":")
        assert chosen.removeprefix("pathnorm-") in lengths
        # both fusions trained once each (every length from one run), the better published
        kept = tmp_path / "home" / "models" / name
        assert (kept / f"{family}.pt").exists() and (kept / f"{family}-pathnormTrue.pt").exists()
        # the same settings again: up to date, whichever length was chosen
        assert main(["personas", "--dataset", name, "--quiet", "--if-stale"]) == 0
        assert persona_model(db.graph(name)) == model
        # A user who arrives now gets a persona from the trained model, and is served.
        assert main(["persona-add", "newbie", "p1", "p3", "p9", "--dataset", name]) == 0
        found = user_persona(db.graph(name), "newbie")
        assert found is not None and found.persona is not None and found.interactions == 3
        assert main(["persona-add", "other", "p1", "nope", "--dataset", name]) == 2
        assert user_persona(db.graph(name), "other") is None  # nothing written
        # Windows of 4 targets: every user's 6 training items need two, so the grid gains a
        # shorter stride (ADR 0021).
        assert main(["train", "--dataset", name, "--epochs", "2", "--max-len", "4", "--quiet"]) == 0
        bundles = list((tmp_path / "home" / "models" / "recommender" / name).glob("*/bundle.json"))
        info = json.loads(bundles[0].read_text())
        assert info["training"]["persona_model"] == model
        assert info["session_persona"] in {"neighbours", "encoder"}
        assert main(["recommend", "p2", "--user", "newbie", "--dataset", name]) == 0
        tried = info["training"]["tuning"]
        reranker = [t for t in tried if t["model"] == "reranker"]
        assert [t["changes"] for t in reranker] == [dict(c) for c in TRAIN_GRID] + [
            {"window_stride": 1}
        ]
        assert all(t["seconds_per_epoch"] > 0 for t in reranker)
        best = max(reranker, key=lambda t: t["valid_ndcg10"])  # the first of equals
        expected = SASRecConfig(epochs=2, max_len=4).model_copy(update=best["changes"])
        tuned = ("batch_size", "dropout", "lr", "window_stride")
        assert {k: info["settings"][k] for k in tuned} == {
            k: expected.model_dump()[k] for k in tuned
        }
        # then the retriever's user dropout, with those settings
        retriever = [t for t in tried if t["model"].startswith("retriever")]
        assert [t["changes"]["user_dropout"] for t in retriever] == list(USER_DROPOUT_GRID)
        best = max(retriever, key=lambda t: t["valid_ndcg10"])
        assert info["settings"]["user_dropout"] == best["changes"]["user_dropout"]
        # Asked not to, the grid leaves the stride entry out.
        assert main(["train", "--dataset", name, "--epochs", "1", "--max-len", "4",
                     "--no-stride-entry", "--fusion", "output", "--quiet"]) == 0  # fmt: skip
        short = [
            json.loads(p.read_text())
            for p in (tmp_path / "home" / "models" / "recommender" / name).glob("*/bundle.json")
        ]
        assert any(
            [t["changes"] for t in g["training"]["tuning"] if t["model"] == "reranker"]
            == [dict(c) for c in TRAIN_GRID]
            for g in short
        )
        # Given settings turn the grid off, and are recorded as given.
        assert main(["train", "--dataset", name, "--epochs", "2", "--batch-size", "8",
                     "--quiet"]) == 0  # fmt: skip
        given = [
            json.loads(p.read_text())
            for p in (tmp_path / "home" / "models" / "recommender" / name).glob("*/bundle.json")
        ]
        assert any(
            g["training"]["tuning"] == [] and g["settings"]["batch_size"] == 8 for g in given
        )
    finally:
        main(["drop", name])
