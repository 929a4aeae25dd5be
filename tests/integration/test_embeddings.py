"""Text embeddings on the real graph: coverage, incremental updates, the vector index,
semantic sanity on ml-100k, cold items, and failures that leave stored vectors alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgstore.datasets import load_dataset
from kgstore.embeddings import read_texts, similar_items
from kgstore.graph import Database, Graph
from kgstore.schema import SchemaError
from learners.semantics import EmbeddingError, OpenAIEmbedder, SentenceTransformerEmbedder
from recommender.pipelines.semantics import embed_dataset
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import generated
from tests.openai_stub import openai_stub

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's KGREC_HOME: the recorded split and caches live here."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def movielens(
    db: Database, datasets_dir: Path, minilm: SentenceTransformerEmbedder, home: Path
) -> Iterator[Graph]:
    """ml-100k ingested and embedded once for this module, in its own namespace."""
    name = "test-embed-ml-100k"
    ingestor = new_ingestor(db, home)
    ingestor.drop(name)
    ingestor.ingest(load_dataset(datasets_dir / "ml-100k", name=name))
    graph = db.graph(name)
    embed_dataset(graph, minilm, persona_dim=64, progress=False)
    yield graph
    ingestor.drop(name)


def query(db: Database, text: str, **params: object) -> list[dict]:  # type: ignore[type-arg]
    records, _, _ = db.driver.execute_query(text, params, database_=db.database)
    return [r.data() for r in records]


def vector_of(graph: Graph, item: str) -> list[float]:
    rows = query(
        graph,
        "MATCH (i:Item {dataset: $d, id: $i}) RETURN i.embedding AS v",
        d=graph.dataset,
        i=item,
    )
    return list(rows[0]["v"])


def test_every_node_with_text_has_a_vector_of_the_model_dimension(
    db: Database, movielens: Graph
) -> None:
    rows = query(
        db,
        """
        MATCH (n {dataset: $d}) WHERE n:Item OR n:Genre OR n:Relation
        RETURN labels(n)[0] AS label, count(n) AS nodes, count(n.embedding) AS vectors,
               collect(DISTINCT size(n.embedding)) AS sizes,
               collect(DISTINCT n.embedding_model) AS models""",
        d=movielens.dataset,
    )
    by_label = {r["label"]: r for r in rows}
    assert set(by_label) == {"Item", "Genre", "Relation"}
    for row in rows:
        assert row["vectors"] == row["nodes"], row
        assert row["sizes"] == [384] and row["models"] == ["all-MiniLM-L6-v2"]
    assert by_label["Item"]["nodes"] == 1_682


def test_rerun_embeds_nothing_and_one_changed_title_re_embeds_one_node(
    db: Database, movielens: Graph, minilm: SentenceTransformerEmbedder
) -> None:
    again = embed_dataset(movielens, minilm, persona_dim=64, progress=False)
    assert sum(again.embedded.values()) == 0
    assert again.unchanged["Item"] == 1_682
    before = vector_of(movielens, "50")
    other = vector_of(movielens, "1")
    query(
        db,
        "MATCH (i:Item {dataset: $d, id: '50'}) SET i.title = $t",
        d=movielens.dataset,
        t="A Space Opera About Rebels",
    )
    try:
        changed = embed_dataset(movielens, minilm, persona_dim=64, progress=False)
        assert dict(changed.embedded) == {"Item": 1}
        assert vector_of(movielens, "50") != before
        assert vector_of(movielens, "1") == other
    finally:
        query(
            db,
            "MATCH (i:Item {dataset: $d, id: '50'}) SET i.title = $t",
            d=movielens.dataset,
            t="Star Wars",
        )
        embed_dataset(movielens, minilm, persona_dim=64, progress=False)


@pytest.mark.parametrize(
    ("item", "related"),
    [
        ("50", "Return of the Jedi"),
        ("127", "Godfather: Part II, The"),
        ("231", "Batman"),
        ("226", "Die Hard"),
        ("181", "Empire Strikes Back, The"),
    ],
)
def test_vector_index_finds_an_obviously_related_title(
    db: Database, movielens: Graph, item: str, related: str
) -> None:
    neighbours = similar_items(movielens, item, k=5)
    assert len(neighbours) == 5
    assert item not in {n.item for n in neighbours}
    assert related in {n.title for n in neighbours}, neighbours
    assert [n.score for n in neighbours] == sorted((n.score for n in neighbours), reverse=True)


def test_related_pairs_are_more_similar_than_random_pairs(db: Database, movielens: Graph) -> None:
    rows = query(
        db,
        "MATCH (i:Item {dataset: $d}) RETURN i.id AS id, i.embedding AS v",
        d=movielens.dataset,
    )
    vectors = {r["id"]: np.array(r["v"], dtype=np.float32) for r in rows}
    related = [("50", "181"), ("50", "172"), ("127", "187"), ("231", "403"), ("226", "144")]
    related_sim = np.mean([vectors[a] @ vectors[b] for a, b in related])
    rng = np.random.default_rng(0)
    ids = sorted(vectors)
    pairs = rng.choice(len(ids), size=(500, 2))
    random_sim = np.mean([vectors[ids[a]] @ vectors[ids[b]] for a, b in pairs if a != b])
    assert related_sim > random_sim + 0.2, (related_sim, random_sim)


def test_vector_index_answers_queries(db: Database, movielens: Graph) -> None:
    rows = query(
        db,
        """
        MATCH (i:Item {dataset: $d, id: '50'})
        CALL db.index.vector.queryNodes('Item_embedding', 50, i.embedding) YIELD node, score
        WHERE node.dataset = $d RETURN node.id AS id, score LIMIT 3""",
        d=movielens.dataset,
    )
    assert rows[0]["id"] == "50" and rows[0]["score"] == pytest.approx(1.0, abs=1e-4)


def test_failures_leave_stored_vectors_unchanged(
    db: Database, movielens: Graph, tmp_path: Path
) -> None:
    before = vector_of(movielens, "50")
    with openai_stub(dimension=384) as (url, state):
        embedder = OpenAIEmbedder(url, "other-model")
        state.fail_with = 503  # the endpoint goes down after the probe
        with pytest.raises(EmbeddingError, match="HTTP 503"):
            embed_dataset(movielens, embedder, persona_dim=64, progress=False)
    with (
        openai_stub(dimension=16) as (url, _),
        pytest.raises(SchemaError, match="has dimension 384 but the model gives 16"),
    ):
        embed_dataset(movielens, OpenAIEmbedder(url, "tiny"), persona_dim=64, progress=False)
    with pytest.raises(EmbeddingError, match="does not exist"):
        SentenceTransformerEmbedder(tmp_path / "missing-model")
    assert vector_of(movielens, "50") == before
    models = query(
        db,
        "MATCH (i:Item {dataset: $d}) RETURN collect(DISTINCT i.embedding_model) AS m",
        d=movielens.dataset,
    )
    assert models[0]["m"] == ["all-MiniLM-L6-v2"]


def test_a_cold_item_gets_a_vector_like_any_other(
    db: Database, graph: Graph, namespace: str, tmp_path: Path, minilm: SentenceTransformerEmbedder
) -> None:
    data = generated(namespace)
    cold = pd.DataFrame({"id": ["cold-1"], "title": ["A brand new film nobody has seen"]})
    data = type(data)(
        data.name,
        data.interactions,
        data.users,
        pd.concat([data.items, cold], ignore_index=True),
        data.entities,
        data.triples,
    )
    new_ingestor(db, tmp_path).ingest(data)
    embed_dataset(graph, minilm, persona_dim=64, progress=False)
    rows = query(
        db,
        "MATCH (i:Item {dataset: $d, id: 'cold-1'}) "
        "RETURN size(i.embedding) AS n, COUNT { (i)<-[:INTERACTED]-() } AS users",
        d=namespace,
    )
    assert rows == [{"n": 384, "users": 0}]
    assert similar_items(graph, "cold-1", k=3)


def test_texts_reach_the_model_in_id_order_whatever_order_the_graph_holds_them(
    db: Database, graph: Graph, namespace: str, tmp_path: Path
) -> None:
    """The same dataset ingested anew embeds to the same vectors (and so to the same personas
    under the same seed) only if its texts meet the model in the same batches."""
    data = generated(namespace)
    data = type(data)(
        data.name,
        data.interactions,
        data.users,
        data.items.iloc[::-1].reset_index(drop=True),  # written last id first
        data.entities.iloc[::-1].reset_index(drop=True),
        data.triples,
    )
    new_ingestor(db, tmp_path).ingest(data)
    texts = read_texts(graph)
    by_label: dict[str, list[str]] = {}
    for text in texts:
        by_label.setdefault(text.label, []).append(text.id)
    assert len(by_label["Item"]) == 40 and len(by_label["Genre"]) == 3
    for ids in by_label.values():
        assert ids == sorted(ids)


def test_hdgi_personas_carry_the_users_tastes(
    db: Database, graph: Graph, movielens: Graph, home: Path
) -> None:
    """The probe on real data: a persona predicts the user's main genre among their training
    items, and ranks the genres of their held-out items and of their latest training items
    (left out of a second graph), far above random vectors; the held-out target (two items
    per user, mostly the majority genre) is computed for the same users, with every score a
    valid fraction."""
    from recommender.config import HDGIConfig
    from recommender.experiments.probe import probe_personas
    from recommender.experiments.probe_tasks import ProbeScore, SetScore

    report = probe_personas(movielens, home, HDGIConfig(epochs=120), seeds=(0,), progress=False)
    held_out, training, sets, later, later_sets, gender, occupation = report.tables
    assert "held-out" in held_out.target and "training" in training.target
    assert held_out.users == training.users == 943 and held_out.classes >= 2
    # the set target ranks every genre of the held-out items: 19 genres, all users
    assert "held-out items, among" in sets.target and sets.columns[0] == "ROC-AUC"
    assert sets.users == 943 and sets.classes == 19
    hdgi_sets, random_sets = sets.rows["HDGI (KG + LLM)"][0], sets.rows["random vectors"][0]
    assert isinstance(hdgi_sets, SetScore) and isinstance(random_sets, SetScore)
    assert hdgi_sets.roc_auc > random_sets.roc_auc + 0.05, report.table()
    # every user keeps an item and leaves out at least one (all have 18 or more)
    assert "latest 20%" in later.target and later.users == later_sets.users == 943
    hdgi_later = later_sets.rows["HDGI (KG + LLM)"][0]
    random_later = later_sets.rows["random vectors"][0]
    assert isinstance(hdgi_later, SetScore) and isinstance(random_later, SetScore)
    assert hdgi_later.roc_auc > random_later.roc_auc + 0.1, report.table()
    assert not report.notes
    # ml-100k's own user properties are targets too; age and zip code have too many values.
    assert "gender" in gender.target and "occupation" in occupation.target
    assert gender.users == occupation.users == 943
    assert gender.classes == 2 and occupation.classes == 21
    hdgi = training.rows["HDGI (KG + LLM)"][0]
    random = training.rows["random vectors"][0]
    assert isinstance(hdgi, ProbeScore) and isinstance(random, ProbeScore)
    assert hdgi.accuracy > random.accuracy + 0.15, report.table()
    assert hdgi.macro_f1 > random.macro_f1 + 0.2, report.table()
    # the baseline also enters at the persona's width (64 by default)
    assert list(training.rows)[-1] == "mean of item embeddings, PCA to 64-d"
    scores = [s for rows in held_out.rows.values() for s in rows]
    assert len(scores) == 4
    assert all(isinstance(s, ProbeScore) and 0 < s.accuracy < 1 for s in scores)


def test_probe_scores_personas_saved_elsewhere(
    db: Database, graph: Graph, movielens: Graph, home: Path, tmp_path: Path
) -> None:
    """Personas trained on another machine (a GPU host without the graph) are probed as they
    are: saved personas equal to the random baseline's vectors score exactly as it does."""
    from kgstore.export import export_graph
    from learners.hdgi.train import TrainResult
    from recommender.config import HDGIConfig
    from recommender.experiments.probe import probe_personas
    from recommender.experiments.saved_personas import save_persona_run

    export = export_graph(movielens, home / "cache" / "export", progress=False)
    users = export.ids["User"]
    vectors = np.random.default_rng(0).standard_normal((len(users), 64)).astype(np.float32)
    run = TrainResult(vectors, device="cuda")
    run.seconds_per_epoch = 0.03
    save_persona_run(tmp_path, export, 0, run)
    report = probe_personas(
        movielens, home, HDGIConfig(), seeds=(0,), progress=False, saved=tmp_path
    )
    assert report.seconds_per_epoch == [0.03]
    # saved personas are of the whole graph: the later targets need their own, so they wait
    assert not any("latest" in table.target for table in report.tables)
    assert "not scored" in report.notes[0] and "not scored" in report.table()
    for table in report.tables:
        assert table.rows["HDGI (KG + LLM)"] == table.rows["random vectors"], table.target
    with pytest.raises(FileNotFoundError, match="seed 1"):
        probe_personas(movielens, home, HDGIConfig(), seeds=(1,), progress=False, saved=tmp_path)


def test_the_comparison_runs_on_the_real_graph(movielens: Graph, home: Path) -> None:
    """The experiment end to end on ml-100k (one seed, one epoch per variant): inputs read
    from the graph and the recorded split, every row trained and scored, the report written."""
    from kgstore.export import export_graph
    from recommender.config import HDGIConfig, SASRecConfig
    from recommender.experiments.comparison import run_comparison
    from recommender.experiments.report import write_all
    from recommender.experiments.runs import BLENDED, PLAIN_BLEND, RERANKED, variant_row
    from recommender.pipelines.inputs import (
        PERSONA_RETRIEVER,
        PLAIN,
        SHUFFLED_RETRIEVER,
        ItemVector,
        RetrieverVariant,
        UserVector,
        load_inputs,
    )
    from recommender.pipelines.persona_learning import learn_personas

    variants = (PLAIN, RetrieverVariant(UserVector.NONE, ItemVector.TEXT), PERSONA_RETRIEVER)
    export = export_graph(movielens, home / "cache" / "export", progress=False)
    llm = RetrieverVariant(UserVector.LLM, ItemVector.TEXT)
    with pytest.raises(ValueError, match="no LLM personas; run kgrec llm-persona"):
        load_inputs(movielens, home, export, (llm,))
    learn_personas(movielens, home, HDGIConfig(epochs=5), progress=False)
    inputs = load_inputs(movielens, home, export, variants)
    assert inputs.data.n_items == 1682 and len(inputs.data.users) == 943
    personas = inputs.user_features[UserVector.PERSONA]
    assert personas.shape == (943, 64)
    assert np.abs(personas).sum(axis=1).min() > 0  # every user has one
    # The shuffled control: every user gets another user's persona.
    shuffled = load_inputs(movielens, home, export, (SHUFFLED_RETRIEVER,)).user_features
    moved = shuffled[UserVector.SHUFFLED]
    assert sorted(map(tuple, moved.tolist())) == sorted(map(tuple, personas.tolist()))
    assert not np.any(np.all(moved == personas, axis=1))
    table = run_comparison(
        inputs, SASRecConfig(epochs=1), seeds=(0,), variants=variants, progress=False,
        log=lambda _: None,
    )  # fmt: skip
    assert table.rows() == [variant_row(v) for v in variants] + [RERANKED, BLENDED, PLAIN_BLEND]
    assert set(table.fusion) == {PERSONA_RETRIEVER.key}
    assert table.cold_users == 0  # every ml-100k user has at least 18 training ratings
    for run in table.runs:
        assert len(run.ranks) == 943
        assert all(0.0 <= value <= 1.0 for value in run.test.values())
    (retrieved,) = table.by_row(variant_row(PERSONA_RETRIEVER))
    (reranked,) = table.by_row(RERANKED)
    # Reranking reorders the top 100 only: what is inside it is unchanged.
    assert reranked.test["HR@100"] == retrieved.test["HR@100"]
    (blended,) = table.by_row(BLENDED)
    assert blended.test["HR@100"] == retrieved.test["HR@100"]
    assert blended.weight is not None and 0.0 <= blended.weight <= 1.0
    assert blended.valid["NDCG@10"] > 0
    paths = write_all(table, home / "results", "kgrec experiment table3 ...", "test machine")
    assert all(path.stat().st_size > 0 for path in paths)
    assert "| KG+LLM / Description (LLM) |" in paths[0].read_text()
    assert f"w = {blended.weight:g}." in paths[0].read_text()
