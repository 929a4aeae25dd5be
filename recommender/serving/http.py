"""The HTTP service: the Python API behind FastAPI, with validated input, 4xx errors that
say what to fix, and OpenAPI docs at ``/docs``. ``kgrec serve`` runs it with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
import neo4j
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import generate_latest
from pydantic import BaseModel, ConfigDict, Field

from kgstore.explain import GraphPath
from recommender.config import ServingConfig
from recommender.serving import request_ids
from recommender.serving.errors import RecommendError, UnknownItemsError, UnknownUserError
from recommender.serving.guards import App as ASGIApp
from recommender.serving.guards import BearerToken, BodyLimit
from recommender.serving.metrics import CONTENT_TYPE, Measured, ServedInfo, ServiceMetrics
from recommender.serving.recommender import Recommender
from recommender.serving.reloading import ServedModels
from recommender.serving.turns import GraphTurns

ItemId = Annotated[str, Field(min_length=1, max_length=200)]
T = TypeVar("T")
_log = logging.getLogger(__name__)
# Transactions the server ended (shutting down, or an administrator's TERMINATE): the driver
# reports them as client errors, but the request may succeed once the database is back.
_ENDED_BY_SERVER = ("Transaction.Terminated", "Transaction.LockClientStopped")


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemId] = Field(
        min_length=1,
        max_length=ServingConfig().max_session,
        description="the session's item ids, oldest first",
        examples=[["50", "172", "181"]],
    )
    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="a known user (their persona is used); omit when anonymous",
    )
    k: int = Field(default=10, ge=1, le=100, description="how many items to return")
    explain: bool = Field(default=False, description="add knowledge-graph explanations")


class PathModel(BaseModel):
    nodes: list[dict[str, Any]]
    types: list[str]


class ExplanationModel(BaseModel):
    text: str
    evidence: list[str]
    supporters: list[str]
    neighbours: int
    paths: list[PathModel]


class RecommendationModel(BaseModel):
    item: str
    title: str | None
    rank: int
    score: float
    retriever_score: float
    order_score: float | None
    cold: bool
    explanation: ExplanationModel | None = None


class RecommendResponse(BaseModel):
    dataset: str
    model_version: str
    persona: str = Field(description="user, session (nearest users' mean) or none")
    session_length: int
    items_read: int
    recommendations: list[RecommendationModel]


class ErrorModel(BaseModel):
    error: str
    message: str
    items: list[str] | None = None
    request_id: str | None = Field(
        default=None, description="this request's id, as in the X-Request-ID header"
    )


def _error_body(
    status: int, code: str, message: str, items: list[str] | None = None
) -> JSONResponse:
    """The JSON body every error answer has."""
    body = ErrorModel(error=code, message=message, items=items, request_id=request_ids.current())
    return JSONResponse(status_code=status, content=body.model_dump(exclude_none=True))


def _paths(paths: list[GraphPath]) -> list[PathModel]:
    return [PathModel(nodes=p.nodes, types=p.types) for p in paths]


def create_app(served: Recommender | ServedModels, token: str | None = None) -> ASGIApp:
    """An app serving a recommender (fixed, or :class:`ServedModels` that swaps in newer
    bundles while serving); its Neo4j driver is closed by the caller. Request bodies are
    bounded by the recommender's ``max_body_bytes``; with ``token`` every route but
    ``/health`` requires ``Authorization: Bearer <token>``. Every request is counted and
    timed on ``/metrics``, refused ones included, and every answer names its request id
    (``X-Request-ID``; error bodies too)."""
    if isinstance(served, Recommender):
        served = ServedModels(served)
    config = served.current.config  # the same for every bundle served
    # Requests that query Neo4j beyond this many wait in the service rather than all
    # querying at once; the wait counts towards the request's timeout, and a request given
    # up at its timeout holds its turn until its driver call has ended.
    turns = GraphTurns(config.max_graph_requests)
    metrics = ServiceMetrics(
        turns, config.max_graph_requests, partial(_info, served), lambda: served.state
    )
    routes = _routes(served, turns, metrics)
    app: ASGIApp = BodyLimit(routes, config.max_body_bytes)
    if token is not None:
        app = BearerToken(app, token)
    return Measured(request_ids.with_request_ids(app), metrics, routes.routes)


def _info(served: ServedModels) -> ServedInfo:
    info = served.current.bundle.info
    return ServedInfo(info.dataset, info.version, info.persona_version)


def _routes(served: ServedModels, graph_work: GraphTurns, metrics: ServiceMetrics) -> FastAPI:
    config = served.current.config  # the same for every bundle served

    @asynccontextmanager
    async def reloading(_: FastAPI) -> AsyncIterator[None]:
        """While the app runs, look for a newer bundle every ``served.every_s`` seconds."""
        async with anyio.create_task_group() as tasks:
            if served.every_s > 0:
                tasks.start_soon(_poll, served)
            yield
            tasks.cancel_scope.cancel()

    app = FastAPI(
        title="kgrec",
        summary="Knowledge-graph and persona-driven session recommendations",
        version=served.current.bundle.info.version,
        lifespan=reloading,
    )
    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorModel},
        404: {"model": ErrorModel},
    }

    def _error(
        status: int, code: str, message: str, items: list[str] | None = None
    ) -> JSONResponse:
        metrics.error(code)
        return _error_body(status, code, message, items)

    @app.exception_handler(RecommendError)
    async def _bad_request(_: Request, error: RecommendError) -> JSONResponse:
        status = 404 if isinstance(error, UnknownItemsError | UnknownUserError) else 400
        return _error(status, error.code, str(error), getattr(error, "items", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's default answer repeats each invalid input whole; a 10,000-character id
        # should not come back, so only where and why are kept.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        metrics.error("invalid_request")
        return JSONResponse(
            status_code=422, content={"detail": detail, "request_id": request_ids.current()}
        )

    async def _no_database(_: Request, error: Exception) -> JSONResponse:
        return _error(503, "database_unavailable", f"Neo4j is unavailable: {error}")

    # The driver's connection errors, and the server's own "not now" answers: each a 503
    # with a JSON body, never a plain-text 500.
    for unavailable in (
        neo4j.exceptions.DriverError,
        neo4j.exceptions.TransientError,
        neo4j.exceptions.DatabaseUnavailable,
    ):
        app.add_exception_handler(unavailable, _no_database)

    @app.exception_handler(neo4j.exceptions.ClientError)
    async def _refused(request: Request, error: neo4j.exceptions.ClientError) -> JSONResponse:
        if "TransactionTimedOut" in (error.code or ""):  # over ServingConfig.query_timeout_s
            return _error(
                503,
                "database_timeout",
                f"Neo4j did not answer within {config.query_timeout_s:g} s",
            )
        if any(ended in (error.code or "") for ended in _ENDED_BY_SERVER):
            return _error(503, "database_unavailable", f"Neo4j ended the query: {error.message}")
        # Handled here, so the server never sees it: logged, or "see its log" finds nothing.
        _log.error("%s %s: %s", request.method, request.url.path, error.code, exc_info=error)
        return await _internal(request, error)

    async def _bounded(function: Callable[..., T], *args: Any, graph: bool = True) -> T:
        """``function(*args)`` in a worker thread, abandoned after ``request_timeout_s``
        (a driver call stuck on a server that stopped answering then ends on its own).
        ``graph``: it queries Neo4j, so it takes a turn under ``max_graph_requests``."""
        with anyio.fail_after(config.request_timeout_s):
            if graph:
                return await graph_work.run(partial(function, *args))
            return await anyio.to_thread.run_sync(partial(function, *args), abandon_on_cancel=True)

    @app.exception_handler(TimeoutError)
    async def _too_slow(_: Request, error: TimeoutError) -> JSONResponse:
        return _error(503, "database_timeout", f"no answer within {config.request_timeout_s:g} s")

    @app.exception_handler(Exception)
    async def _internal(_: Request, error: Exception) -> JSONResponse:
        # A defect, not the client's fault: JSON like every other answer, no internals.
        return _error(500, "internal_error", "the service failed; see its log")

    @app.get("/health")
    async def health() -> JSONResponse:
        """Up when Neo4j answers; says which model is served."""
        recommender = served.current
        info = recommender.bundle.info
        reload = served.state
        body: dict[str, Any] = {
            "dataset": info.dataset,
            "model_version": info.version,
            "persona_version": info.persona_version,
            "items": len(recommender.bundle.items),
            "reload": {
                "every_s": reload.every_s,
                "checked_at": reload.checked_at,
                "error": reload.error,
            },
        }
        try:
            # Never queued behind slow graph requests: it says whether Neo4j is up now.
            await _bounded(recommender.graph.driver.verify_connectivity, graph=False)
        except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, TimeoutError) as error:
            return JSONResponse(
                status_code=503, content={**body, "status": "degraded", "neo4j": str(error)}
            )
        return JSONResponse(content={**body, "status": "ok", "neo4j": "up"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_text() -> Response:
        """The metrics in Prometheus' text format."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE)

    @app.post("/recommend", response_model=RecommendResponse, responses=errors)
    async def recommend(request: RecommendRequest) -> RecommendResponse:
        """The top ``k`` items to follow a session, optionally explained."""
        recommender = served.current  # one bundle for the whole answer
        result = await _bounded(
            recommender.recommend,
            request.items,
            request.user_id,
            request.k,
            request.explain,
            graph=recommender.queries_graph(request.user_id, request.explain),
        )
        return RecommendResponse(
            dataset=recommender.dataset,
            model_version=result.model_version,
            persona=result.persona,
            session_length=result.session_length,
            items_read=result.items_read,
            recommendations=[
                RecommendationModel(
                    item=r.item,
                    title=r.title,
                    rank=r.rank,
                    score=r.score,
                    retriever_score=r.retriever_score,
                    order_score=r.order_score,
                    cold=r.cold,
                    explanation=None
                    if r.explanation is None
                    else ExplanationModel(
                        text=r.explanation.text,
                        evidence=r.explanation.evidence,
                        supporters=r.explanation.supporters,
                        neighbours=r.explanation.neighbours,
                        paths=_paths(r.explanation.paths),
                    ),
                )
                for r in result
            ],
        )

    @app.get("/items/{item_id}", responses=errors)
    async def item(item_id: Annotated[str, Path(min_length=1, max_length=200)]) -> dict[str, Any]:
        """An item's title, description, training interactions and graph neighbours."""
        details = await _bounded(served.current.item, item_id)
        return {
            "item": details.item,
            "title": details.title,
            "description": details.description,
            "interactions": details.interactions,
            "cold": details.interactions == 0,
            "attributes": details.attributes,
        }

    @app.get("/users/{user_id}/persona", responses=errors)
    async def persona(
        user_id: Annotated[str, Path(min_length=1, max_length=200)],
        k: Annotated[int, Query(ge=1, le=50, description="nearest users to list")] = 5,
    ) -> dict[str, Any]:
        """A user's persona vector, its provenance, and the users nearest to it."""
        view = await _bounded(served.current.persona, user_id, k)
        found = view.persona
        return {
            "user": found.user,
            "has_persona": found.persona is not None,
            "version": found.version,
            "model": found.model,
            "updated_at": found.updated_at,
            "interactions": found.interactions,
            "persona": found.persona,
            "nearest": [
                {
                    "user": n.user,
                    "score": n.score,
                    "shared_items": n.shared_items,
                    "shared_attributes": n.shared_attributes,
                }
                for n in view.nearest
            ],
        }

    return app


async def _poll(served: ServedModels) -> None:
    while True:
        await anyio.sleep(served.every_s)
        try:
            # Loading a bundle reads files and the graph: never on the event loop.
            await anyio.to_thread.run_sync(served.check, abandon_on_cancel=True)
        except Exception:  # never the end of reloading, nor of the service
            _log.exception("looking for a newer bundle failed")
