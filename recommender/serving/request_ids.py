"""Request ids: every answer names its request in ``X-Request-ID``, every error body in
``request_id``, and every log line the service writes while serving it, so a client's
report of a failure finds the service's log line. A caller's own id (a gateway's, a
client's) is kept when it is safe to log; otherwise, or without one, the service makes one.
"""

from __future__ import annotations

import re
from logging import Filter

from asgi_correlation_id import CorrelationIdFilter, CorrelationIdMiddleware, correlation_id
from starlette.types import ASGIApp

HEADER = "X-Request-ID"
NONE = "-"  # in a log line written outside any request
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def acceptable(value: str) -> bool:
    """Whether a caller's id is kept: 1 to 128 letters, digits or ``._:-`` (UUIDs, nginx's
    ``$request_id``, trace ids, ``client-42``), nothing that could break a log line or a
    header."""
    return _SAFE.fullmatch(value) is not None


def with_request_ids(app: ASGIApp) -> ASGIApp:
    """``app`` behind the layer that reads or makes each request's id and names it in the
    answer's ``X-Request-ID``; put it in front of anything that may answer or log."""
    return CorrelationIdMiddleware(app, header_name=HEADER, validator=acceptable)


def current() -> str | None:
    """The id of the request being served, ``None`` outside any request."""
    return correlation_id.get()


def log_filter() -> Filter:
    """A logging filter giving each record ``correlation_id``: its request's id, or ``-``."""
    return CorrelationIdFilter(default_value=NONE)
