"""probes checks a provider's real API with one bounded ``GET .../models`` call.

``base_url`` follows each vendor SDK's convention: OpenAI's includes ``/v1``
(``https://api.openai.com/v1``) and is probed at ``{base_url}/models`` with
``Authorization: Bearer``; Anthropic's is the root (``https://api.anthropic.com``) and is
probed at ``{base_url}/v1/models`` with ``x-api-key`` and ``anthropic-version``. ``local``
is the offline reviewer: nothing to reach, always healthy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from shared import clients, credentials, egress

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    base_url: str | None
    key_reference: str | None
    allow_loopback: bool = False
    """Development only: local fakes of the vendors' APIs (``shared.egress``)."""


def request_for(target: Target, key: str | None) -> tuple[str, dict[str, str]]:
    """The URL and headers of the models listing, in the vendor's own protocol."""
    base = (target.base_url or DEFAULT_BASE_URLS[target.kind]).rstrip("/")
    headers = {"Accept": "application/json"}
    if target.kind == "openai":
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return f"{base}/models", headers
    headers["anthropic-version"] = ANTHROPIC_VERSION
    if key:
        headers["x-api-key"] = key
    return f"{base}/v1/models", headers


async def probe(target: Target, *, limit_s: float) -> dict[str, Any]:
    """``{status, latency_ms, detail}``; never raises for the provider's failures."""
    if target.kind == "local":
        return {"status": "healthy", "latency_ms": 0.0, "detail": "offline reviewer"}
    try:
        key = await credentials.resolve(target.key_reference) if target.key_reference else None
    except credentials.KeyUnavailable as e:
        return {"status": "unhealthy", "latency_ms": 0.0, "detail": f"API key unavailable: {e}"}
    url, headers = request_for(target, key)
    try:  # the stored URL was checked; the addresses its name resolves to are checked now
        await egress.check_resolved(url, allow_loopback=target.allow_loopback)
    except egress.Refused as e:
        return {"status": "unhealthy", "latency_ms": 0.0, "detail": f"not probed: {e}"}
    started = time.perf_counter()
    try:
        # No retries and no propagation headers: this is a third party, and a probe.
        response = await clients.client().get(url, headers=headers, timeout=limit_s)
        status, detail = _judge(response)
    except httpx.TimeoutException:
        status, detail = "unhealthy", f"timed out after {limit_s:g}s"
    except httpx.TransportError as e:
        status, detail = "unhealthy", f"unreachable: {type(e).__name__}"
    latency = round((time.perf_counter() - started) * 1000, 2)
    return {"status": status, "latency_ms": latency, "detail": detail}


def _judge(response: httpx.Response) -> tuple[str, str]:
    code = response.status_code
    if code in (401, 403):
        return "unhealthy", "authentication failed"
    if code == 429:
        return "unhealthy", "rate limited by the provider (HTTP 429)"
    if code != 200:
        return "unhealthy", f"the provider answered HTTP {code}"
    try:
        listed = response.json().get("data")
    except (ValueError, AttributeError):
        listed = None
    if not isinstance(listed, list):
        return "unhealthy", "the models listing is not in the provider's format"
    return "healthy", f"{len(listed)} model(s) listed"
