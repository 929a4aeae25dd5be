"""The recommender as a product on the real Neo4j: the Python API and the HTTP service, with
every bad-input case answered by a clear error that writes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import neo4j
import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kgstore.graph import Database, Graph
from kgstore.settings import Neo4jSettings
from kgstore.stats import graph_counts
from learners.sasrec.data import SequenceData
from recommender.config import HDGIConfig, SASRecConfig, ServingConfig
from recommender.pipelines.persona_learning import learn_personas
from recommender.pipelines.semantics import embed_dataset
from recommender.pipelines.training import train_recommender
from recommender.serving.bundle import BundleError, bundle_path
from recommender.serving.errors import (
    EmptySessionError,
    InvalidKError,
    RecommendError,
    SessionTooLongError,
    UnknownItemsError,
    UnknownUserError,
)
from recommender.serving.http import create_app
from recommender.serving.recommender import Recommender
from recommender.serving.reloading import ServedModels
from recommender.util.files import write_text_atomic
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import generated

COLD, TWIN = "i40", "i7"  # i40: no interactions, the same text (title, genre) as i7
UNNAMED = ("m.0c0", "m.0c1")  # KG entities without a name, as Freebase ids arrive


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-home")


@pytest.fixture(scope="module")
def dataset(db: Database, minilm: object, home: Path) -> Iterator[Graph]:
    """A small generated graph, plus a cold item, embedded and with HDGI personas."""
    name = f"test-api-{uuid.uuid4().hex[:8]}"
    data = generated(name)
    items = pd.concat(
        [data.items, pd.DataFrame({"id": [COLD], "title": ["Item 7"]})], ignore_index=True
    )
    triples = pd.concat(
        [
            data.triples,
            pd.DataFrame(
                [(COLD, "Item", "HAS_GENRE", "Comedy", "Genre")]
                + [(f"i{i}", "Item", "FILM_COUNTRY", UNNAMED[i % 2], "Entity") for i in range(40)],
                columns=data.triples.columns,
            ),
        ],
        ignore_index=True,
    )
    entities = pd.concat(
        [data.entities, pd.DataFrame({"id": list(UNNAMED), "label": "Entity", "name": None})],
        ignore_index=True,
    )
    data = dataclasses.replace(data, items=items, triples=triples, entities=entities)
    ingestor = new_ingestor(db, home)
    ingestor.ingest(data)
    graph = db.graph(name)
    embed_dataset(graph, minilm, persona_dim=64, progress=False)  # type: ignore[arg-type]
    learn_personas(graph, home, HDGIConfig(epochs=5), progress=False)
    yield graph
    ingestor.drop(name)


@pytest.fixture(scope="module")
def recommender(dataset: Graph, home: Path) -> Recommender:
    settings = SASRecConfig(hidden=32, epochs=3)
    path, _, trained = train_recommender(dataset, home, home / "models", settings, fusion="output",
        progress=False, log=lambda _: None,
    )  # fmt: skip
    assert trained
    again, _, trained = train_recommender(dataset, home, home / "models", settings, fusion="output",
        progress=False, log=lambda _: None,
    )  # fmt: skip
    assert again == path and not trained  # up to date: loaded, not retrained
    assert bundle_path(home / "models", dataset.dataset) == path
    return Recommender.load(dataset, home / "models", ServingConfig())


def snapshot(dataset: Graph, home: Path) -> object:
    files = sorted(str(p) for p in home.rglob("*"))
    return graph_counts(dataset), files


def test_recommend_ranks_unseen_items_with_titles(recommender: Recommender) -> None:
    result = recommender.recommend(["i1", "i2", "i3"], k=5)
    assert [r.rank for r in result] == [1, 2, 3, 4, 5]
    assert not {"i1", "i2", "i3"} & {r.item for r in result}
    assert all((r.title and r.title.startswith("Item")) or r.item == "i0" for r in result)
    assert result.persona == "session" and 0 < len(result.neighbours) <= 20
    assert result.items_read == 3 and result.session_length == 3
    again = recommender.recommend(["i1", "i2", "i3"], k=5)
    assert [r.item for r in again] == [r.item for r in result]  # deterministic
    warm = [r for r in result if not r.cold]
    scores = [r.order_score for r in warm]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]


def test_known_users_use_their_own_persona(recommender: Recommender) -> None:
    mine = recommender.recommend(["i1", "i2"], user_id="u3", k=10)
    assert mine.persona == "user" and mine.neighbours == []
    with pytest.raises(UnknownUserError, match="no training history"):
        recommender.recommend(["i1"], user_id="nobody")


def test_the_served_order_is_the_evaluated_order(recommender: Recommender) -> None:
    """Serving and evaluation give a known user the same list, at the bundle's blend weight:
    what the tables measure is what the API returns."""
    from recommender.evaluation.evaluator import seen_mask
    from recommender.evaluation.ranking import two_stage_orders
    from recommender.serving.recommender import Recommender as Served

    bundle = recommender.bundle
    user = 3
    history = bundle.histories[user]
    session = [str(bundle.items[i - 1]) for i in history]
    candidates = min(recommender.candidates, len(bundle.items) - len(set(history.tolist())))
    k = min(recommender.max_k, candidates)
    for weight in (0.0, 0.3, 0.7):
        # The same models and arrays, served at this blend weight.
        served = Served(
            recommender.graph,
            dataclasses.replace(
                bundle, info=dataclasses.replace(bundle.info, retriever_weight=weight)
            ),
            recommender.titles,
            recommender.config,
        )
        items = [r.item for r in served.recommend(session, str(bundle.users[user]), k=k)]
        seq = torch.tensor([history[-bundle.retriever.max_len :].tolist()])
        orders = two_stage_orders(
            bundle.retriever,
            bundle.reranker,
            seq,
            torch.tensor([user]),
            seen_mask([history], len(bundle.items), "cpu"),
            (weight,),
            candidates=candidates,
            fixed_items=~bundle.warm,
        )
        evaluated = [str(bundle.items[i - 1]) for i in orders[weight][0].tolist()]
        assert items == evaluated[:k], weight
    # The weight matters for this list, so a served path that ignored it would be caught.
    assert orders[0.7][0].tolist() != two_stage_orders(
        bundle.retriever, bundle.reranker, seq, torch.tensor([user]),
        seen_mask([history], len(bundle.items), "cpu"), (0.0,), candidates=candidates,
        fixed_items=~bundle.warm,
    )[0.0][0].tolist()  # fmt: skip


@pytest.mark.parametrize("way", ["neighbours", "encoder"])
def test_an_anonymous_session_is_served_as_evaluated(recommender: Recommender, way: str) -> None:
    """The anonymous-session evaluation that chooses the session persona ranks each target
    where the service puts it, with either way of making the session's persona."""
    from recommender.evaluation.metrics import MISS
    from recommender.evaluation.sessions import (
        item_users,
        neighbour_personas,
        session_encoder,
        session_ranks,
    )
    from recommender.serving.recommender import Recommender as Served

    bundle = recommender.bundle
    assert bundle.persona_memory is not None  # kept from kgrec personas for the encoder
    assert bundle.info.session_persona in {"neighbours", "encoder"}
    assert {f"anonymous session ({w})" for w in ("neighbours", "encoder", "none")} <= set(
        bundle.info.validation
    )
    served = Served(
        recommender.graph,
        dataclasses.replace(bundle, info=dataclasses.replace(bundle.info, session_persona=way)),
        recommender.titles,
        recommender.config,
    )
    data = SequenceData.from_split(
        pd.DataFrame(
            [
                (str(u), str(bundle.items[i - 1]), p, "valid" if p == len(h) - 1 else "train")
                for u, h in zip(bundle.users, bundle.histories, strict=True)
                for p, i in enumerate(h)
            ],
            columns=["user", "item", "position", "split"],
        ),
        catalogue=list(bundle.items),
    )
    found = neighbour_personas(
        bundle.retriever.get_buffer("user_features").numpy(),
        item_users(data.train, data.n_items),
        recommender.config.session_neighbours,
    )

    def unknown_user(sessions: Sequence[np.ndarray], users: np.ndarray) -> np.ndarray:
        # the service does not know the user, so it does not leave them out either
        return found(sessions, np.full(len(users), -1))

    make = (
        session_encoder(bundle.persona_memory, bundle.items) if way == "encoder" else unknown_user
    )

    length = 1_000  # the whole input, so the service and the evaluator leave out the same items
    ranks = session_ranks(
        bundle.retriever,
        bundle.reranker,
        data,
        make,
        weight=bundle.info.retriever_weight,
        candidates=recommender.candidates,
        fixed_items=~bundle.warm,
        session_length=length,
    )
    users = data.evaluable("valid")
    checked = 0
    before = graph_counts(recommender.graph)
    for user, rank in zip(users[:6], ranks[:6], strict=True):  # 6 users, several batches' worth
        session = [str(bundle.items[i - 1]) for i in data.train[user][-length:]]
        k = min(recommender.max_k, len(bundle.items) - len(set(session)))
        items = [r.item for r in served.recommend(session, k=k)]
        target = str(bundle.items[data.valid[user] - 1])
        assert (items.index(target) if target in items else MISS) == rank
        checked += 1
    assert checked >= 3
    # A session's persona, by either way, leaves nothing behind in the graph.
    assert graph_counts(recommender.graph) == before


def test_anonymous_session_of_only_cold_items_has_no_persona(recommender: Recommender) -> None:
    result = recommender.recommend([COLD], k=3)
    assert result.persona == "none" and len(result) == 3


def test_a_cold_item_is_recommended_through_its_text(recommender: Recommender) -> None:
    bundle = recommender.bundle
    cold, twin = recommender.item_index[COLD], recommender.item_index[TWIN]
    assert not bundle.warm[cold] and bundle.warm[twin]
    session = ["i1", "i2", "i3"]
    everything = recommender.recommend(session, k=recommender.max_k - len(session))
    by_item = {r.item: r for r in everything}
    assert by_item[COLD].cold and by_item[COLD].order_score is None
    # The text vector carries it: its retriever vector is its twin's text, projected, without
    # the offset the twin learned from interactions.
    retriever = bundle.retriever
    assert retriever.item_projection is not None
    with torch.no_grad():
        vectors = retriever.item_vectors()
        text = retriever.item_projection(retriever.get_buffer("item_features"))
    torch.testing.assert_close(vectors[cold], text[twin])
    assert not torch.allclose(vectors[twin], text[twin])
    # It keeps the slot the retriever gave it.
    assert np.isfinite(by_item[COLD].retriever_score)
    mine = by_item[COLD].retriever_score
    above = sum(r.retriever_score > mine + 1e-5 for r in everything)
    level = sum(abs(r.retriever_score - mine) <= 1e-5 for r in everything)  # its twin too
    assert above <= by_item[COLD].rank - 1 < above + level


def test_bad_input_gives_clear_errors_and_writes_nothing(
    dataset: Graph, home: Path, recommender: Recommender
) -> None:
    before = snapshot(dataset, home)
    with pytest.raises(EmptySessionError, match="at least one item"):
        recommender.recommend([])
    with pytest.raises(UnknownItemsError) as unknown:
        recommender.recommend(["i1", "nope", "gone", "nope"])
    assert unknown.value.items == ["nope", "gone"] and "2 item id(s)" in str(unknown.value)
    for k in (0, -1, 101, 2.5, True):
        with pytest.raises(InvalidKError, match="k must be an integer from 1 to"):
            recommender.recommend(["i1"], k=k)  # type: ignore[arg-type]
    with pytest.raises(InvalidKError, match="from 1 to 38"):  # 41 items, 3 in the session
        recommender.recommend(["i1", "i2", "i3"], k=39)
    with pytest.raises(SessionTooLongError, match="at most 1000"):
        recommender.recommend(["i1"] * 1001)
    with pytest.raises(RecommendError, match="list of item ids"):
        recommender.recommend("i1")
    with pytest.raises(RecommendError, match="strings"):
        recommender.recommend([1, 2])  # type: ignore[list-item]
    with pytest.raises(UnknownItemsError):
        recommender.item("nope")
    with pytest.raises(UnknownUserError):
        recommender.persona("nobody")
    # Documented handling, not errors: duplicates are kept, long sessions are cut.
    repeated = recommender.recommend(["i1", "i2", "i1", "i1"], k=3)
    assert repeated.session_length == 4 and not {"i1", "i2"} & {r.item for r in repeated}
    long = recommender.recommend([f"i{n % 40}" for n in range(60)], k=1)
    assert long.items_read == recommender.retriever.max_len and long.session_length == 60
    assert snapshot(dataset, home) == before


def test_explanations_come_from_the_graph(recommender: Recommender) -> None:
    session = ["i1", "i2", "i3"]
    result = recommender.recommend(session, k=8, explain=True)
    genres = {"Drama", "Comedy", "Noir"}
    for r in result:
        assert r.explanation is not None and r.explanation.text
        for path in r.explanation.paths:
            assert path.nodes[0]["id"] == r.item and path.nodes[-1]["id"] in session
        assert set(r.explanation.supporters) <= {f"u{u}" for u in range(30)}
        assert r.explanation.neighbours == 20
    # Every item has a genre and the session covers all three, so each shares one.
    for r in result:
        assert r.explanation is not None
        assert any(
            line.split(",")[0] in {f"Genre: {g}" for g in genres} for line in r.explanation.evidence
        )
    # Paths through an entity without a name are phrased by the relation, never by its id.
    phrased = [r.explanation.text for r in result if r.explanation is not None]
    assert any("country" in text.lower() for text in phrased), phrased
    for r in result:
        assert r.explanation is not None
        for line in [r.explanation.text, *r.explanation.evidence]:
            assert not any(entity in line for entity in UNNAMED), line
    plain = recommender.recommend(session, k=8)
    assert [r.item for r in plain] == [r.item for r in result]
    assert all(r.explanation is None for r in plain)


def test_lookups(recommender: Recommender) -> None:
    item = recommender.item(COLD)
    assert item.title == "Item 7" and item.interactions == 0
    assert any(a.get("name") == "Comedy" for a in item.attributes)
    view = recommender.persona("u1", k=3)
    assert view.persona.persona is not None and len(view.persona.persona) == 64
    assert len(view.nearest) == 3 and "u1" not in {n.user for n in view.nearest}


def test_a_bundle_for_another_split_is_refused(
    dataset: Graph, home: Path, recommender: Recommender
) -> None:
    path = bundle_path(home / "models", dataset.dataset)
    text = (path / "bundle.json").read_text()
    try:
        (path / "bundle.json").write_text(
            text.replace(recommender.bundle.info.split_hash, "0" * 64)
        )
        with pytest.raises(BundleError, match="another split"):
            Recommender.load(dataset, home / "models", ServingConfig())
    finally:
        (path / "bundle.json").write_text(text)
    with pytest.raises(BundleError, match="kgrec train"):
        Recommender.load(dataset.of("no-such-dataset"), home / "models", ServingConfig())


def test_http_service(dataset: Graph, home: Path, recommender: Recommender) -> None:
    client = TestClient(create_app(recommender))
    before = snapshot(dataset, home)
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["neo4j"] == "up"
    assert health.json()["model_version"] == recommender.bundle.info.version
    ok = client.post("/recommend", json={"items": ["i1", "i2"], "k": 4, "explain": True})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["persona"] == "session" and len(body["recommendations"]) == 4
    assert body["recommendations"][0]["explanation"]["text"]
    expected = [r.item for r in recommender.recommend(["i1", "i2"], k=4)]
    assert [r["item"] for r in body["recommendations"]] == expected
    user = client.post("/recommend", json={"items": ["i1"], "user_id": "u2"})
    assert user.status_code == 200 and user.json()["persona"] == "user"
    assert len(user.json()["recommendations"]) == 10
    # Malformed requests: 422 with the field at fault.
    bad: object
    for bad in (
        {},
        {"items": []},
        {"items": "i1"},
        {"items": ["i1"], "k": 0},
        {"items": ["i1"], "k": 101},
        {"items": ["i1"], "extra": 1},
        {"items": [""]},
        {"items": ["i1"] * 1001},
    ):
        response = client.post("/recommend", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["detail"][0]["loc"][0] == "body"
        assert response.json()["request_id"] == response.headers["X-Request-ID"]
    unknown = client.post(
        "/recommend", json={"items": ["i1", "nope"]}, headers={"X-Request-ID": "client-1"}
    )
    assert unknown.status_code == 404 and unknown.headers["X-Request-ID"] == "client-1"
    assert unknown.json() == {
        "error": "unknown_items",
        "message": f"1 item id(s) not in {dataset.dataset!r}: 'nope'",
        "items": ["nope"],
        "request_id": "client-1",
    }
    assert ok.headers["X-Request-ID"] != user.headers["X-Request-ID"]  # made by the service
    nobody = client.post("/recommend", json={"items": ["i1"], "user_id": "nobody"})
    assert nobody.status_code == 404 and nobody.json()["error"] == "unknown_user"
    too_many = client.post("/recommend", json={"items": ["i1", "i2", "i3"], "k": 39})
    assert too_many.status_code == 400 and too_many.json()["error"] == "invalid_k"
    item = client.get(f"/items/{COLD}")
    assert item.status_code == 200 and item.json()["cold"] is True
    assert client.get("/items/nope").status_code == 404
    persona = client.get("/users/u1/persona", params={"k": 2})
    assert persona.status_code == 200 and len(persona.json()["nearest"]) == 2
    assert len(persona.json()["persona"]) == 64
    assert client.get("/users/nobody/persona").status_code == 404
    assert client.get("/users/u1/persona", params={"k": 0}).status_code == 422
    spec = client.get("/openapi.json").json()
    assert {"/recommend", "/health", "/items/{item_id}", "/users/{user_id}/persona"} <= set(
        spec["paths"]
    )
    assert client.get("/docs").status_code == 200
    long_user = client.post("/recommend", json={"items": ["i1"], "user_id": "u" * 10_000})
    assert long_user.status_code == 422 and "u" * 300 not in long_user.text  # not echoed whole
    assert snapshot(dataset, home) == before
    # Everything above, counted on /metrics by route template, status and error code.
    scraped = _scrape(client)
    assert scraped[("kgrec_requests_total", "POST", "/recommend", "200")] == 2
    assert scraped[("kgrec_requests_total", "POST", "/recommend", "422")] == 9
    assert scraped[("kgrec_requests_total", "POST", "/recommend", "404")] == 2
    assert scraped[("kgrec_requests_total", "GET", "/items/{item_id}", "404")] == 1
    assert scraped[("kgrec_requests_total", "GET", "/users/{user_id}/persona", "422")] == 1
    assert scraped[("kgrec_errors_total", "invalid_request")] == 10
    assert scraped[("kgrec_errors_total", "unknown_items")] == 2  # /recommend and /items
    assert scraped[("kgrec_errors_total", "invalid_k")] == 1
    info = recommender.bundle.info
    assert scraped[("kgrec_model_info", info.dataset, info.version, info.persona_version)] == 1
    assert scraped[("kgrec_graph_turns_in_use",)] == 0


def _scrape(client: TestClient) -> dict[tuple[str, ...], float]:
    """``/metrics`` as (name, label values in the order of their names) -> value."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, *(sample.labels[k] for k in sorted(sample.labels))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


@pytest.mark.parametrize(
    "error",
    [
        neo4j.exceptions.ServiceUnavailable("connection refused"),
        neo4j.exceptions.TransientError("the database is busy"),
        neo4j.exceptions.DatabaseUnavailable("the database is starting"),
    ],
)
def test_an_unavailable_database_is_a_json_503(
    recommender: Recommender, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(recommender, "item", failing)
    client = TestClient(create_app(recommender))
    answer = client.get("/items/i1")
    assert answer.status_code == 503
    assert answer.json()["error"] == "database_unavailable"
    scraped = _scrape(client)
    assert scraped[("kgrec_errors_total", "database_unavailable")] == 1
    assert scraped[("kgrec_requests_total", "GET", "/items/{item_id}", "503")] == 1


def test_a_query_over_its_timeout_or_ended_by_the_server_is_a_json_503_and_a_defect_a_500(
    recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    timed_out = neo4j.exceptions.Neo4jError._hydrate_neo4j(
        code="Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
        message="terminated",
    )
    ended = neo4j.exceptions.Neo4jError._hydrate_neo4j(
        code="Neo.TransientError.Transaction.Terminated", message="the database is stopping"
    )
    assert isinstance(ended, neo4j.exceptions.ClientError)  # the driver's reclassification
    for error, status, code in (
        (timed_out, 503, "database_timeout"),
        (ended, 503, "database_unavailable"),
        (RuntimeError("a bug"), 500, "internal_error"),
    ):

        def failing(*args: object, error: Exception = error, **kwargs: object) -> None:
            raise error

        monkeypatch.setattr(recommender, "item", failing)
        client = TestClient(create_app(recommender), raise_server_exceptions=False)
        answer = client.get("/items/i1")
        assert answer.status_code == status
        assert answer.json()["error"] == code and "a bug" not in answer.text
        assert answer.json()["request_id"] == answer.headers["X-Request-ID"]


def test_an_unexpected_neo4j_error_is_a_json_500_and_logged(
    recommender: Recommender, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    refused = neo4j.exceptions.Neo4jError._hydrate_neo4j(
        code="Neo.ClientError.Statement.SyntaxError", message="secret internals"
    )

    def failing(*args: object, **kwargs: object) -> None:
        raise refused

    monkeypatch.setattr(recommender, "item", failing)
    client = TestClient(create_app(recommender), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="recommender.serving.http"):
        answer = client.get("/items/i1")
    assert answer.status_code == 500 and answer.json()["error"] == "internal_error"
    assert "secret internals" not in answer.text
    (logged,) = [r for r in caplog.records if r.name == "recommender.serving.http"]
    assert "GET /items/i1" in logged.getMessage() and "SyntaxError" in logged.getMessage()
    assert logged.exc_info is not None and logged.exc_info[1] is refused


def test_graph_requests_over_the_limit_wait_their_turn_and_the_others_do_not(
    recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most ``max_graph_requests`` requests that query Neo4j run at once; the rest queue
    in the service and are all answered, while ``/health`` and plain recommendations (served
    from memory) are not queued behind them."""
    monkeypatch.setattr(recommender, "config", ServingConfig(max_graph_requests=2))
    original = recommender.item
    release = threading.Event()
    lock = threading.Lock()
    running, started, peak = [0], [0], [0]

    def held(item_id: str) -> object:
        with lock:
            running[0] += 1
            started[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(timeout=10)
        with lock:
            running[0] -= 1
        return original(item_id)

    monkeypatch.setattr(recommender, "item", held)

    async def scenario() -> tuple[list[int], int, list[int]]:
        transport = httpx.ASGITransport(app=create_app(recommender))
        async with httpx.AsyncClient(transport=transport, base_url="http://kgrec") as client:
            waiting = [asyncio.create_task(client.get("/items/i1")) for _ in range(5)]
            for _ in range(500):  # until the limit is taken
                if started[0] == 2:
                    break
                await asyncio.sleep(0.01)
            health = await client.get("/health")
            plain = await client.post("/recommend", json={"items": ["i1", "i2"], "k": 3})
            queued_behind = started[0]  # still 2: the other graph requests wait
            release.set()
            answers = await asyncio.gather(*waiting)
        statuses = [a.status_code for a in answers]
        return [health.status_code, plain.status_code], queued_behind, statuses

    # Which requests take a turn: explanations and users added after training read Neo4j.
    assert not recommender.queries_graph(None, False)
    assert not recommender.queries_graph("u1", False)
    assert recommender.queries_graph("u1", True) and recommender.queries_graph("newcomer", False)
    unqueued, queued_behind, statuses = asyncio.run(scenario())
    assert unqueued == [200, 200] and queued_behind == 2
    assert statuses == [200] * 5 and started[0] == 5 and peak[0] == 2


def _publish(
    models: Path, source: Path, version: str, broken: bool = False, **info: object
) -> None:
    """A copy of the bundle in ``source`` as ``version`` (its retriever unreadable if
    ``broken``, its ``bundle.json`` updated with ``info``), then named by LATEST, as ``kgrec
    train`` publishes one."""
    target = models / version
    shutil.copytree(source, target)
    kept = json.loads((target / "bundle.json").read_text())
    (target / "bundle.json").write_text(json.dumps({**kept, **info, "version": version}))
    if broken:
        (target / "retriever.pt").write_bytes(b"cut off while copying")
    write_text_atomic(models / "LATEST", version + "\n")  # as kgrec train does


def _neo4j_env(settings: Neo4jSettings) -> dict[str, str]:
    """The environment that points a ``kgrec`` command with another KGREC_HOME at the
    tests' Neo4j."""
    return {
        "NEO4J_URI": settings.uri, "NEO4J_USER": settings.user,
        "NEO4J_PASSWORD": settings.password, "NEO4J_DATABASE": settings.database,
    }  # fmt: skip


def _until(check: object, what: str, limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {limit_s:g} s: {what}"
        time.sleep(0.05)


def test_a_newer_bundle_is_served_without_a_restart_and_a_broken_one_never(
    recommender: Recommender, dataset: Graph, home: Path, tmp_path: Path
) -> None:
    source = bundle_path(home / "models", dataset.dataset)
    models = tmp_path / "models"
    _publish(models / dataset.dataset, source, "first")
    config = ServingConfig(reload_every_s=0.05)
    served = ServedModels(
        Recommender.load(dataset, models, config),
        latest=lambda: bundle_path(models, dataset.dataset).name,
        load=lambda version: Recommender.load(dataset, models, config, version),
        every_s=config.reload_every_s,
    )
    session = {"items": ["i1", "i2", "i3"], "k": 5}
    with TestClient(create_app(served)) as client:
        health = client.get("/health").json()
        assert health["model_version"] == "first" and health["reload"]["every_s"] == 0.05
        before = client.post("/recommend", json=session).json()

        _publish(models / dataset.dataset, source, "broken", broken=True)
        _until(lambda: client.get("/health").json()["reload"]["error"], "the refusal reported")
        health = client.get("/health").json()
        assert health["model_version"] == "first" and health["status"] == "ok"
        assert "cannot load the recommender" in health["reload"]["error"]
        assert client.post("/recommend", json=session).json() == before  # still served

        _publish(models / dataset.dataset, source, "second")
        _until(lambda: client.get("/health").json()["model_version"] == "second", "the swap")
        assert client.get("/health").json()["reload"]["error"] is None
        after = client.post("/recommend", json=session).json()
        assert after["model_version"] == "second"
        assert after["recommendations"] == before["recommendations"]  # the same weights


def test_kgrec_serve_swaps_in_a_bundle_trained_while_it_runs(
    recommender: Recommender, dataset: Graph, home: Path, tmp_path: Path,
    neo4j_settings: Neo4jSettings,
) -> None:  # fmt: skip
    """The command itself, as a user runs it: a newer bundle published while it serves is
    answered with within the reload interval."""
    source = bundle_path(home / "models", dataset.dataset)
    models = tmp_path / "home" / "models" / "recommender" / dataset.dataset
    _publish(models, source, "first", persona_version="older")  # as if trained before them
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KGREC_HOME": str(tmp_path / "home"), **_neo4j_env(neo4j_settings)}
    command = [sys.executable, "-m", "recommender.cli", "serve", "--dataset", dataset.dataset,
               "--port", str(port), "--reload-every", "0.2", "--access-log"]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        service = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"

        def version() -> str | None:
            assert service.poll() is None, log.read_text()
            try:
                return str(httpx.get(f"{url}/health", timeout=5).json()["model_version"])
            except httpx.TransportError:
                return None

        _until(lambda: version() == "first", "the service up", limit_s=120)
        _publish(models, source, "second")
        _until(lambda: version() == "second", "the swap")
        answer = httpx.post(f"{url}/recommend", json={"items": ["i1"], "k": 3}, timeout=10)
        assert answer.status_code == 200 and answer.json()["model_version"] == "second"
        made = answer.headers["X-Request-ID"]
        assert len(made) == 32  # made by the service
        metrics = httpx.get(f"{url}/metrics", timeout=10).text  # under uvicorn, as scraped
        assert 'kgrec_requests_total{method="POST",route="/recommend",status="200"} 1.0' in metrics
        assert 'model_version="second"' in metrics and "kgrec_reload_failing 0.0" in metrics
    finally:
        service.terminate()
        service.wait(timeout=30)
    said = log.read_text()
    assert "[-] recommender.serving.reloading: now serving second (was first)" in said
    (access,) = [line for line in said.splitlines() if f"[{made}]" in line]
    assert "INFO" in access and "uvicorn.access: 127.0.0.1:" in access  # names the request
    assert access.endswith('"POST /recommend HTTP/1.1" 200')
    assert "note: this recommender is older than the graph (trained with personas older; " in said


def test_kgrec_status_follows_the_pipeline_of_a_real_graph(
    recommender: Recommender, dataset: Graph, home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    neo4j_settings: Neo4jSettings,
) -> None:  # fmt: skip
    from kgstore.stats import dataset_state
    from recommender.cli import main

    state = dataset_state(dataset)
    assert state is not None and state.with_persona == state.users > 0
    assert state.embedded_items == state.items and state.unfinished_phases == 0
    for key, value in _neo4j_env(neo4j_settings).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KGREC_HOME", str(tmp_path))
    assert main(["status", "--dataset", dataset.dataset]) == 0
    assert f"next         kgrec train --dataset {dataset.dataset}" in capsys.readouterr().out
    models = tmp_path / "models" / "recommender" / dataset.dataset
    _publish(models, bundle_path(home / "models", dataset.dataset), "trained")
    assert main(["status", "--dataset", dataset.dataset]) == 0
    out = capsys.readouterr().out
    assert "recommender  trained, trained " in out and ", up to date" in out
    assert f"next         ready: kgrec serve --dataset {dataset.dataset}" in out
    assert "comparison" not in out  # none under way
    records = tmp_path / "experiments" / "compare" / dataset.dataset / "records"
    (records / "seeds" / "k").mkdir(parents=True)
    (records / "seeds" / "k" / "seed0.json").write_text("{}")
    assert main(["status", "--dataset", dataset.dataset]) == 0
    assert (
        "comparison   standard rows: 1 seed (kgrec experiment records --dataset "
        f"{dataset.dataset})" in capsys.readouterr().out
    )
    assert main(["status", "--dataset", "no-such-dataset"]) == 1


def test_the_service_bounds_bodies_and_checks_the_token(recommender: Recommender) -> None:
    open_client = TestClient(create_app(recommender))
    huge = open_client.post(
        "/recommend",
        content=b'{"items": ["' + b"x" * 300_000 + b'"]}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
    guarded = TestClient(create_app(recommender, token="s3cret"))
    assert guarded.get("/health").status_code == 200
    assert guarded.post("/recommend", json={"items": ["i1"]}).status_code == 401
    assert guarded.get("/docs").status_code == 401
    assert guarded.get("/metrics").status_code == 401
    ok = guarded.post(
        "/recommend", json={"items": ["i1"]}, headers={"Authorization": "Bearer s3cret"}
    )
    assert ok.status_code == 200
    scrape = guarded.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    refused = 'kgrec_requests_total{method="POST",route="/recommend",status="401"} 1.0'
    assert scrape.status_code == 200 and refused in scrape.text
    assert 'method="POST",route="/recommend",status="413"' in open_client.get("/metrics").text


def test_a_user_added_after_training_gets_an_inductive_persona(
    dataset: Graph, home: Path, recommender: Recommender
) -> None:
    from kgstore.explain import user_persona
    from kgstore.personas import read_personas
    from kgstore.users import UserError, add_user
    from recommender.pipelines.persona_learning import add_user_personas

    before = graph_counts(dataset)
    with pytest.raises(UserError, match="items not in"):
        add_user(dataset, "newcomer", ["i1", "no-such-item"])
    assert graph_counts(dataset) == before  # nothing written
    with pytest.raises(UnknownUserError, match="persona-add"):
        recommender.recommend(["i3"], "newcomer")

    assert add_user(dataset, "newcomer", ["i1", "i2", "i5"]) == 3
    added = add_user_personas(dataset, home, ["newcomer"])
    stored = user_persona(dataset, "newcomer")
    assert stored is not None and stored.persona is not None
    assert stored.version == recommender.bundle.info.persona_version == added.version
    np.testing.assert_allclose(stored.persona, added.vectors[0], atol=1e-5)
    # The same edges give the same persona.
    np.testing.assert_allclose(
        add_user_personas(dataset, home, ["newcomer"]).vectors, added.vectors, atol=1e-6
    )
    # The API serves the new user with that persona.
    result = recommender.recommend(["i3"], "newcomer", k=5)
    assert result.persona == "user" and len(list(result)) == 5
    # A training user re-added with their training edges gets their training persona back.
    personas = read_personas(dataset)
    assert personas is not None
    trained = personas.vectors[list(personas.ids).index("u3")]
    again = add_user_personas(dataset, home, ["u3"]).vectors[0]
    cosine = float(trained @ again / np.linalg.norm(trained) / np.linalg.norm(again))
    print(f"re-added training user: cosine {cosine:.6f} to the training persona")
    assert cosine > 0.9999
