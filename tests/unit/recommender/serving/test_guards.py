"""The HTTP guards without a database: bounded bodies, the bearer token, safe bindings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from recommender.serving.guards import AuthSetupError, BearerToken, BodyLimit, check_binding


def _echo() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def test_bodies_over_the_limit_are_refused_before_the_app_reads_them() -> None:
    client = TestClient(BodyLimit(_echo(), max_bytes=100))
    assert client.post("/echo", content=b"x" * 100).json() == {"read": 100}
    refused = client.post("/echo", content=b"x" * 101)
    assert refused.status_code == 413
    assert refused.json()["error"] == "body_too_large"
    bogus = client.post("/echo", content=b"x", headers={"content-length": "-1"})
    assert bogus.status_code in (400, 413)


def test_a_chunked_body_is_counted_as_it_arrives() -> None:
    client = TestClient(BodyLimit(_echo(), max_bytes=100))

    def chunks(n: int) -> Iterator[bytes]:
        for _ in range(n):
            yield b"x" * 30

    assert client.post("/echo", content=chunks(3)).json() == {"read": 90}
    assert client.post("/echo", content=chunks(4)).status_code == 413


def test_the_token_is_required_everywhere_but_health() -> None:
    client = TestClient(BearerToken(_echo(), "s3cret"))
    assert client.get("/health").status_code == 200
    missing = client.post("/echo", content=b"x")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/echo", content=b"x", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.post("/echo", content=b"x", headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200 and right.json() == {"read": 1}
    with pytest.raises(AuthSetupError):
        BearerToken(_echo(), "")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.5"])
def test_loopback_needs_no_token(host: str) -> None:
    check_binding(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.4", "example.org"])  # noqa: S104
def test_binding_beyond_loopback_without_a_token_is_refused(host: str) -> None:
    with pytest.raises(AuthSetupError, match="KGREC_API_TOKEN"):
        check_binding(host, None)
    check_binding(host, "token")
