"""What every request passes before it reaches a route: a bounded body, and the bearer
token when one is configured. Plain ASGI middleware, so a refused request is answered
before its body is read whole."""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from recommender.serving import request_ids

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/health"})  # for load balancers and container health checks


class AuthSetupError(ValueError):
    """The service would be reachable beyond this machine without a token."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to serve beyond loopback without a token."""
    if token is None and not is_loopback(host):
        raise AuthSetupError(
            f"binding {host} exposes the service to other machines; set KGREC_API_TOKEN "
            "(clients then send 'Authorization: Bearer <token>'), or bind 127.0.0.1"
        )


async def _answer(send: Send, status: int, body: dict[str, str], headers: list[Any]) -> None:
    request = request_ids.current()
    payload = json.dumps(body if request is None else {**body, "request_id": request}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    """Answers 413 to a body over ``max_bytes``, by its Content-Length or, when it is sent
    in chunks, as soon as the chunks read so far pass the limit.

    Args:
        app: the application behind.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: App, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        # Read the body first (it is bounded), so a chunked body over the limit is refused
        # before the application sees any of it; then replay it.
        messages: list[Message] = []
        read = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            read += len(message.get("body", b""))
            if read > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)

    async def _refuse(self, send: Send) -> None:
        await _answer(
            send,
            413,
            {
                "error": "body_too_large",
                "message": f"request bodies are limited to {self.max_bytes} bytes",
            },
            [],
        )


class BearerToken:
    """Answers 401 to a request without ``Authorization: Bearer <token>`` (compared in
    constant time), except on :data:`OPEN_PATHS`.

    Args:
        app: the application behind.
        token: the token clients must send.
    """

    def __init__(self, app: App, token: str) -> None:
        if not token:
            raise AuthSetupError("the API token is empty")
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"authorization", b"")
        if not hmac.compare_digest(given, self.expected):
            await _answer(
                send,
                401,
                {"error": "unauthorized", "message": "send 'Authorization: Bearer <token>'"},
                [(b"www-authenticate", b"Bearer")],
            )
            return
        await self.app(scope, receive, send)
