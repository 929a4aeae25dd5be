"""The uvicorn server settings ``kgrec serve`` runs the HTTP service with."""

from __future__ import annotations

from typing import Any

import uvicorn

from recommender.config import ServingConfig
from recommender.serving.guards import App

LOG_FORMAT = "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"


def log_config() -> dict[str, Any]:
    """The service's logging (``logging.config.dictConfig``): every line on stderr names the
    request it was written for (``-`` outside one), uvicorn's own included, so a failure's
    traceback is found by the ``request_id`` its client was answered with. uvicorn's
    loggers keep the level ``server_config`` gives them; the service's own say when it
    swaps or refuses a bundle (INFO)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "recommender.serving.request_ids.log_filter"}},
        "formatters": {"lines": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "lines",
                "filters": ["request_id"],
            }
        },
        "loggers": {
            "recommender.serving": {"level": "INFO"},
            # A caller's unusable id is replaced without a line each time: clients decide
            # how often that happens.
            "asgi_correlation_id": {"level": "ERROR"},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def server_config(app: App, host: str, port: int, config: ServingConfig) -> uvicorn.Config:
    """One worker serving ``app`` on ``host:port``, idle connections kept for
    ``config.keep_alive_s``, logging as :func:`log_config` says: warnings and errors from
    uvicorn, and with ``config.access_log`` its start and a line per request too.

    A connection the server closes while a client sends its next request on it fails that
    request with a reset: the client's pool must always give a connection up first, so the
    server keeps idle connections longer than client pools do.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=1,
        log_config=log_config(),
        log_level="info" if config.access_log else "warning",
        access_log=config.access_log,
        timeout_keep_alive=config.keep_alive_s,
    )
