"""A small JSON-over-HTTP client for OpenAI-compatible endpoints (vLLM and others), on
``httpx`` with a timeout and retries of connection failures and 429/5xx answers."""

from __future__ import annotations

import time
from typing import Any

import httpx

RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


class EndpointError(RuntimeError):
    """The endpoint could not be reached or answered something unusable."""


def post_json(
    url: str,
    body: dict[str, Any],
    api_key: str | None,
    timeout_s: float,
    retries: int = 3,
    backoff_s: float = 0.5,
) -> Any:
    """POST ``body`` as JSON and return the decoded answer.

    Connection errors, timeouts and answers with a status in :data:`RETRIED_STATUS` are
    tried again up to ``retries`` times, waiting ``backoff_s`` doubled after each try.

    Raises:
        EndpointError: a non-http(s) URL, an answer that is not 2xx after the retries, or
            one that is not JSON.
    """
    if not url.startswith(("http://", "https://")):
        raise EndpointError(f"{url}: only http(s) endpoints are supported")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(timeout=timeout_s, headers=headers) as client:
        for attempt in range(retries + 1):
            try:
                response = client.post(url, json=body)
            except httpx.TransportError as error:
                if attempt == retries:
                    raise EndpointError(f"cannot reach {url}: {error}") from error
            else:
                if response.status_code not in RETRIED_STATUS or attempt == retries:
                    break
            time.sleep(backoff_s * 2**attempt)
    if response.is_error:
        detail = response.text[:300]
        raise EndpointError(f"{url} answered HTTP {response.status_code}: {detail}")
    try:
        return response.json()
    except ValueError as error:
        raise EndpointError(
            f"{url} answered with invalid JSON: {response.content[:200]!r}"
        ) from error
