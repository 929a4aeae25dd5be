"""A small JSON-over-HTTP client for OpenAI-compatible endpoints (vLLM and others)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class EndpointError(RuntimeError):
    """The endpoint could not be reached or answered something unusable."""


def post_json(url: str, body: dict[str, Any], api_key: str | None, timeout_s: float) -> Any:
    if not url.startswith(("http://", "https://")):
        raise EndpointError(f"{url}: only http(s) endpoints are supported")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {api_key}"} if api_key else {}),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            payload = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode("utf-8", "replace")
        raise EndpointError(f"{url} answered HTTP {error.code}: {detail}") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise EndpointError(f"cannot reach {url}: {reason}") from error
    try:
        return json.loads(payload)
    except json.JSONDecodeError as error:
        raise EndpointError(f"{url} answered with invalid JSON: {payload[:200]!r}") from error
