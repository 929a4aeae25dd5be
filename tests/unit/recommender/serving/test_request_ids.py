"""Request ids on a small app of its own (no database): kept or made, named in every answer
(refusals too) and in the log lines written while serving the request."""

from __future__ import annotations

import io
import logging
import logging.config
import re
from collections.abc import Iterator

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recommender.config import ServingConfig
from recommender.serving import request_ids
from recommender.serving.guards import BearerToken, BodyLimit
from recommender.serving.request_ids import HEADER, acceptable, log_filter, with_request_ids
from recommender.serving.server import LOG_FORMAT, log_config, server_config

MADE = re.compile(r"[0-9a-f]{32}")
_log = logging.getLogger("recommender.serving.tests")


def _client(token: str | None = None) -> TestClient:
    app = FastAPI()

    @app.get("/logs")
    async def logs() -> dict[str, str | None]:
        _log.warning("on the event loop")
        await anyio.to_thread.run_sync(lambda: _log.warning("in a worker thread"))
        return {"seen": request_ids.current()}

    inner = BodyLimit(app, 100)
    return TestClient(with_request_ids(inner if token is None else BearerToken(inner, token)))


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the service's log format writes for ``recommender.serving.tests``."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(log_filter())
    _log.addHandler(handler)
    yield out
    _log.removeHandler(handler)


@pytest.mark.parametrize(
    "value",
    ["3f1c9a0e7b2d4c58a1e6f0b9c8d7e6a5", "0b7ea8a4-7a51-4a5f-9d2c-6a1f0f3c2b11", "client-42",
     "Root.1:abc_def"],
)  # fmt: skip
def test_a_caller_s_safe_id_is_kept(value: str) -> None:
    assert acceptable(value)
    answer = _client().get("/logs", headers={HEADER: value})
    assert answer.headers[HEADER] == value and answer.json() == {"seen": value}


@pytest.mark.parametrize("value", ["two words", "x" * 129, "id;drop", "caf\u00e9", ""])
def test_a_missing_or_unsafe_id_is_replaced_by_one_of_the_service_s(value: str) -> None:
    assert not acceptable(value)
    headers = {HEADER.encode(): value.encode()} if value else {}  # bytes, as clients may send
    answer = _client().get("/logs", headers=headers)
    made = answer.headers[HEADER]
    assert MADE.fullmatch(made) and answer.json() == {"seen": made}


def test_two_requests_never_share_an_id() -> None:
    client = _client()
    assert client.get("/logs").headers[HEADER] != client.get("/logs").headers[HEADER]


def test_refusals_name_their_request_in_the_header_and_the_body() -> None:
    client = _client(token="s3cret")
    refused = client.get("/logs", headers={HEADER: "client-7"})
    assert refused.status_code == 401
    assert refused.headers[HEADER] == "client-7" and refused.json()["request_id"] == "client-7"
    huge = client.post("/logs", content=b"x" * 200, headers={"Authorization": "Bearer s3cret"})
    assert huge.status_code == 413
    made = huge.headers[HEADER]
    assert MADE.fullmatch(made) and huge.json()["request_id"] == made


def test_log_lines_name_the_request_they_were_written_for(lines: io.StringIO) -> None:
    answer = _client().get("/logs", headers={HEADER: "client-9"})
    assert answer.status_code == 200
    _log.warning("between requests")
    written = lines.getvalue().splitlines()
    assert len(written) == 3
    assert "[client-9] recommender.serving.tests: on the event loop" in written[0]
    assert "[client-9] recommender.serving.tests: in a worker thread" in written[1]
    assert "[-] recommender.serving.tests: between requests" in written[2]


def test_kgrec_serve_logs_through_the_request_id_filter() -> None:
    config = log_config()
    filter_spec = config["filters"]["request_id"]["()"]
    assert logging.config.BaseConfigurator({}).resolve(filter_spec) is log_filter
    assert config["handlers"]["stderr"]["filters"] == ["request_id"]
    assert "%(correlation_id)s" in config["formatters"]["lines"]["format"]
    assert config["root"]["handlers"] == ["stderr"]
    served = server_config(_client().app, "127.0.0.1", 8000, ServingConfig())
    assert served.log_config == config
