"""The service's metrics on a small app of their own (no database): route templates as
labels, statuses whoever answers, turns in use and waiting, the model served."""

from __future__ import annotations

import threading

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import Response

from recommender.serving.guards import BearerToken
from recommender.serving.metrics import CONTENT_TYPE, OTHER, Measured, ServedInfo, ServiceMetrics
from recommender.serving.reloading import ReloadState
from recommender.serving.turns import GraphTurns


class Boom(RuntimeError):
    pass


def _samples(metrics: ServiceMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _count(metrics: ServiceMetrics, route: str, method: str, status: int) -> float:
    labels = frozenset({"route": route, "method": method, "status": str(status)}.items())
    return _samples(metrics).get(("kgrec_requests_total", labels), 0.0)


def _app(
    reload: ReloadState | None = None, token: str | None = None
) -> tuple[TestClient, ServiceMetrics, GraphTurns]:
    turns = GraphTurns(2)
    state = reload or ReloadState(30.0, None, None)
    metrics = ServiceMetrics(
        turns, 2, lambda: ServedInfo("movies", "20261207-a", "p1"), lambda: state
    )
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"item": item_id}

    @app.get("/broken")
    async def broken() -> None:
        raise Boom("a defect")

    @app.get("/metrics")
    async def scrape() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE)

    inner = app if token is None else BearerToken(app, token)
    client = TestClient(Measured(inner, metrics, app.routes), raise_server_exceptions=False)
    return client, metrics, turns


def test_requests_are_counted_by_route_template_never_by_id() -> None:
    client, metrics, _ = _app()
    for item in ("a", "b", "c"):
        assert client.get(f"/items/{item}").status_code == 200
    assert client.get("/nowhere/at/all").status_code == 404
    assert client.post("/items/a").status_code == 405
    assert _count(metrics, "/items/{item_id}", "GET", 200) == 3
    assert _count(metrics, "/items/{item_id}", "POST", 405) == 1
    assert _count(metrics, OTHER, "GET", 404) == 1
    routes = {
        dict(labels).get("route") for name, labels in _samples(metrics) if "route" in dict(labels)
    }
    assert routes == {"/items/{item_id}", OTHER}
    timed = frozenset({"route": "/items/{item_id}"}.items())
    assert _samples(metrics)[("kgrec_request_duration_seconds_count", timed)] == 4


def test_an_escaped_defect_and_a_guard_s_refusal_are_counted_with_their_status() -> None:
    client, metrics, _ = _app(token="s3cret")
    assert client.get("/items/a").status_code == 401
    answer = client.get("/broken", headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 500
    assert _count(metrics, "/items/{item_id}", "GET", 401) == 1
    assert _count(metrics, "/broken", "GET", 500) == 1


def test_the_scrape_is_prometheus_text_with_the_model_and_the_turns() -> None:
    client, metrics, _ = _app(reload=ReloadState(30.0, 1_765_000_000.0, "cannot load x"))
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(metrics)
    model = frozenset(
        {"dataset": "movies", "model_version": "20261207-a", "persona_version": "p1"}.items()
    )
    assert samples[("kgrec_model_info", model)] == 1.0
    assert samples[("kgrec_reload_failing", frozenset())] == 1.0
    assert samples[("kgrec_reload_checked_timestamp_seconds", frozenset())] == 1_765_000_000.0
    assert samples[("kgrec_graph_turns_limit", frozenset())] == 2.0
    assert samples[("kgrec_graph_turns_in_use", frozenset())] == 0.0
    assert "kgrec_requests_total" in answer.text


def test_a_served_bundle_has_no_reload_failure_and_no_check_time_before_the_first() -> None:
    _, metrics, _ = _app()
    samples = _samples(metrics)
    assert samples[("kgrec_reload_failing", frozenset())] == 0.0
    assert ("kgrec_reload_checked_timestamp_seconds", frozenset()) not in samples


def test_turns_in_use_and_waiting_are_read_at_scrape_time() -> None:
    _, metrics, turns = _app()
    release = threading.Event()
    seen: dict[str, float] = {}

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            for _ in range(3):  # the limit is 2: one waits
                tasks.start_soon(turns.run, release.wait)
            while turns.running < 2 or turns.waiting < 1:
                await anyio.sleep(0.01)
            samples = _samples(metrics)
            seen["in_use"] = samples[("kgrec_graph_turns_in_use", frozenset())]
            seen["waiting"] = samples[("kgrec_graph_turns_waiting", frozenset())]
            release.set()
        seen["after"] = _samples(metrics)[("kgrec_graph_turns_in_use", frozenset())]

    anyio.run(main)
    assert seen == {"in_use": 2.0, "waiting": 1.0, "after": 0.0}


def test_error_answers_are_counted_by_code() -> None:
    _, metrics, _ = _app()
    metrics.error("database_timeout")
    metrics.error("database_timeout")
    metrics.error("unknown_items")
    samples = _samples(metrics)
    assert samples[("kgrec_errors_total", frozenset({"code": "database_timeout"}.items()))] == 2
    assert samples[("kgrec_errors_total", frozenset({"code": "unknown_items"}.items()))] == 1


def test_two_apps_never_share_counts() -> None:
    (first, first_metrics, _), (_, second_metrics, _) = _app(), _app()
    first.get("/items/a")
    assert _count(first_metrics, "/items/{item_id}", "GET", 200) == 1
    assert _count(second_metrics, "/items/{item_id}", "GET", 200) == 0
