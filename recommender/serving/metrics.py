"""The service's metrics in Prometheus' text format (``GET /metrics``): requests by route,
method and status, their latency, the error answers by code, Neo4j turns in use and waiting,
the model served, and whether the latest bundle could be swapped in.

Routes are labelled by their template (``/items/{item_id}``, never the id), and a path the
app does not serve by ``other``, so the number of series stays fixed whatever clients send.
Each app has a registry of its own: two apps in one process never share counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match

from recommender.serving.guards import App, Message, Receive, Scope, Send
from recommender.serving.reloading import ReloadState
from recommender.serving.turns import GraphTurns

CONTENT_TYPE = CONTENT_TYPE_LATEST
OTHER = "other"  # the route label of a path no route serves
# Seconds: served-from-memory answers take milliseconds, explained ones tens to hundreds,
# and the default request limit is 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class ServedInfo:
    """What is served now, as the metrics name it."""

    dataset: str
    model_version: str
    persona_version: str | None


class _Served(Collector):
    """The model served and the reload state, read when scraped."""

    def __init__(self, info: Callable[[], ServedInfo], reload: Callable[[], ReloadState]) -> None:
        self._info, self._reload = info, reload

    def collect(self) -> Iterable[Metric]:
        info, reload = self._info(), self._reload()
        model = GaugeMetricFamily(
            "kgrec_model_info",
            "the bundle served (always 1; its names in the labels)",
            labels=["dataset", "model_version", "persona_version"],
        )
        model.add_metric([info.dataset, info.model_version, info.persona_version or ""], 1.0)
        yield model
        yield GaugeMetricFamily(
            "kgrec_reload_failing",
            "1 while the bundle LATEST names cannot be served (see /health reload.error)",
            value=0.0 if reload.error is None else 1.0,
        )
        if reload.checked_at is not None:
            yield GaugeMetricFamily(
                "kgrec_reload_checked_timestamp_seconds",
                "when the service last looked for a newer bundle (seconds since 1970)",
                value=reload.checked_at,
            )


class ServiceMetrics:
    """One app's metrics.

    Args:
        turns: the app's turns for work that queries Neo4j.
        turn_limit: how many such calls may run at once.
        info: what is served now (called at each scrape).
        reload: the reload state now (called at each scrape).
    """

    def __init__(
        self,
        turns: GraphTurns,
        turn_limit: int,
        info: Callable[[], ServedInfo],
        reload: Callable[[], ReloadState],
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kgrec_requests",
            "requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kgrec_request_duration_seconds",
            "time from a request's arrival to the end of its answer, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "kgrec_errors",
            "error answers the app gave, by error code (database_unavailable, "
            "database_timeout, internal_error, unknown_items, ...)",
            ["code"],
            registry=self.registry,
        )
        in_use = Gauge(
            "kgrec_graph_turns_in_use",
            "calls querying Neo4j now, abandoned ones still running included",
            registry=self.registry,
        )
        in_use.set_function(lambda: turns.running)
        waiting = Gauge(
            "kgrec_graph_turns_waiting",
            "requests waiting for a turn to query Neo4j",
            registry=self.registry,
        )
        waiting.set_function(lambda: turns.waiting)
        limit = Gauge(
            "kgrec_graph_turns_limit",
            "calls that may query Neo4j at once (max_graph_requests)",
            registry=self.registry,
        )
        limit.set(turn_limit)
        self.registry.register(_Served(info, reload))

    def error(self, code: str) -> None:
        """Count an error answer."""
        self.errors.labels(code).inc()


class Measured:
    """Counts and times every HTTP request to ``app``, whatever answers it (a route, an
    error handler, or a guard in front such as the token check); put it outermost.

    Args:
        app: the application behind.
        metrics: where the counts go.
        routes: the routes that name a request's route label (the FastAPI app's).
        clock: seconds, monotonic.
    """

    def __init__(
        self,
        app: App,
        metrics: ServiceMetrics,
        routes: Sequence[BaseRoute],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app, self.metrics, self.routes, self.clock = app, metrics, routes, clock

    def route(self, scope: Scope) -> str:
        """The template of the route serving ``scope``'s path (any method), or ``other``:
        the one the app's router matched, or, for a request answered before routing (a
        guard's refusal), a match of its own."""
        matched = getattr(scope.get("route"), "path", None)
        if matched is not None:
            return str(matched)
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return str(getattr(route, "path", OTHER))
        return OTHER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.clock()
        status = 500  # unless an answer starts: the server answers 500 to an escaped error

        async def measured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, measured)
        finally:
            route, method = self.route(scope), str(scope.get("method", ""))
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route).observe(self.clock() - started)
