"""The uvicorn server settings ``kgrec serve`` runs the HTTP service with."""

from __future__ import annotations

import uvicorn

from recommender.config import ServingConfig
from recommender.serving.guards import App


def server_config(app: App, host: str, port: int, config: ServingConfig) -> uvicorn.Config:
    """One worker serving ``app`` on ``host:port``, idle connections kept for
    ``config.keep_alive_s``.

    A connection the server closes while a client sends its next request on it fails that
    request with a reset: the client's pool must always give a connection up first, so the
    server keeps idle connections longer than client pools do.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=1,
        log_level="warning",
        timeout_keep_alive=config.keep_alive_s,
    )
