"""The recommender bundle on disk and the readable explanation lines (no database)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from kgstore.explain import GraphPath
from learners.sasrec.model import SASRec
from recommender.serving.bundle import (
    Bundle,
    BundleError,
    BundleInfo,
    bundle_path,
    load_bundle,
    model_arguments,
    save_bundle,
)
from recommender.serving.explanations import evidence_lines


def small_bundle(version: str = "v1") -> Bundle:
    torch.manual_seed(0)
    retriever = SASRec(
        5, hidden=8, layers=2, heads=2, dropout=0.1, max_len=4, item_features=torch.randn(6, 3),
        user_features=torch.randn(2, 4), fusion="output",
    )  # fmt: skip
    reranker = SASRec(5, hidden=8, layers=2, heads=2, dropout=0.1, max_len=4)
    info = BundleInfo(
        dataset="d", version=version, created_at="now", split_hash="s", graph_version="g",
        persona_version="p", seed=0, settings={}, retriever=model_arguments(retriever),
        reranker=model_arguments(reranker),
    )  # fmt: skip
    return Bundle(
        info,
        np.array(list("abcde"), dtype=object),
        np.array(["u1", "u2"], dtype=object),
        [np.array([1, 2, 3]), np.array([4])],
        np.array([False, True, True, True, True, False]),
        retriever.eval(),
        reranker.eval(),
    )


def test_a_saved_bundle_loads_with_identical_scores(tmp_path: Path) -> None:
    bundle = small_bundle()
    path = save_bundle(bundle, tmp_path)
    assert bundle_path(tmp_path, "d") == path == tmp_path / "d" / "v1"
    loaded = load_bundle(path)
    seq = torch.tensor([[0, 1, 2, 3]])
    for before, after in ((bundle.retriever, loaded.retriever), (bundle.reranker, loaded.reranker)):
        users = torch.tensor([1]) if before.uses_users else None
        torch.testing.assert_close(
            before.full_sort_predict(seq, users), after.full_sort_predict(seq, users)
        )
    assert loaded.items.tolist() == list("abcde") and loaded.users.tolist() == ["u1", "u2"]
    assert [h.tolist() for h in loaded.histories] == [[1, 2, 3], [4]]
    assert loaded.warm.tolist() == bundle.warm.tolist() and loaded.info == bundle.info
    # A newer bundle becomes the latest; the older one stays loadable by version.
    save_bundle(small_bundle("v2"), tmp_path)
    assert bundle_path(tmp_path, "d").name == "v2" and bundle_path(tmp_path, "d", "v1") == path
    assert not list((tmp_path / "d").glob(".staging-*"))


def test_missing_or_broken_bundles_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="kgrec train --dataset d"):
        bundle_path(tmp_path, "d")
    path = save_bundle(small_bundle(), tmp_path)
    (path / "retriever.pt").write_bytes(b"not a model")
    with pytest.raises(BundleError, match="cannot load"):
        load_bundle(path)
    with pytest.raises(BundleError, match=r"bundle\.json is missing"):
        bundle_path(tmp_path, "d", "nope")


def node(label: str, id_: str, name: str | None = None) -> dict[str, str | None]:
    return {"label": label, "id": id_, "name": name}


def test_evidence_lines_are_readable_and_strongest_first() -> None:
    rec = node("Item", "r", "Rec")
    paths = [
        GraphPath(
            [rec, node("Entity", "m.1"), node("Item", "a")], ["FILM_COUNTRY", "FILM_COUNTRY"]
        ),
        GraphPath([rec, node("Genre", "g", "Sci-Fi"), node("Item", "a")], ["HAS_GENRE"] * 2),
        GraphPath([rec, node("Genre", "h", "Drama"), node("Item", "b")], ["HAS_GENRE"] * 2),
        GraphPath([rec, node("Genre", "g", "Sci-Fi"), node("Item", "b")], ["HAS_GENRE"] * 2),
        GraphPath([rec, node("Item", "b")], ["FILM_SEQUEL"]),
    ]
    titles: dict[str, str | None] = {"a": "Empire Strikes Back, The", "b": "Alien"}
    assert evidence_lines(paths, titles) == [
        "film sequel: Alien",
        "Genre: Sci-Fi, shared with The Empire Strikes Back and Alien",
        "Genre: Drama, shared with Alien",
        "same film country as The Empire Strikes Back",
    ]
    assert evidence_lines([], titles) == []
    # Two unnamed entities of one relation stay two lines; no id is ever shown.
    other = GraphPath(
        [rec, node("Entity", "m.2"), node("Item", "b")], ["FILM_COUNTRY", "FILM_COUNTRY"]
    )
    lines = evidence_lines([*paths, other], titles)
    assert lines[-2:] == [
        "same film country as The Empire Strikes Back",
        "same film country as Alien",
    ]
    assert not any("m.1" in line or "m.2" in line for line in lines)


def test_a_version_or_dataset_that_leaves_the_models_folder_is_refused(tmp_path: Path) -> None:
    from kgstore.vocabulary import VocabularyError

    with pytest.raises(VocabularyError, match="model version"):
        bundle_path(tmp_path, "toy", "../../elsewhere")
    with pytest.raises(VocabularyError, match="dataset name"):
        bundle_path(tmp_path, "../toy")
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "LATEST").write_text("../../elsewhere\n")  # a tampered pointer
    with pytest.raises(VocabularyError, match="model version"):
        bundle_path(tmp_path, "toy")
