"""clients makes service-to-service HTTP calls with timeouts, retries and propagation.

Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried, on connection
errors and 502/503/504, with exponential backoff and jitter. Every call forwards the
current request id and W3C ``traceparent``.

A service's ``remote.py`` answers typed values: :func:`call_for` (or :func:`read`) reads
the other function's JSON into a pydantic model of the part it uses, once, at the
boundary; repositories answer frozen slotted dataclasses (README, "Architecture").
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import ssl  # loaded with asyncio already
import threading
from typing import TYPE_CHECKING, Any, TypeVar

from shared import logs

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

Answer = TypeVar("Answer", bound="BaseModel")

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
_client: httpx.AsyncClient | None = None
_loop: asyncio.AbstractEventLoop | None = None


def transport_errors() -> tuple[type[BaseException], ...]:
    """Exceptions meaning the other function could not be reached or answered badly."""
    import httpx

    return (httpx.TransportError, httpx.HTTPStatusError)


@functools.cache
def tls() -> ssl.SSLContext:
    """The process's one TLS client context, made on first use, trusting what httpx's
    default trusts (``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's CA bundle).

    Loading a CA bundle costs about 20 ms and 1 MiB, and every httpx client loads its own
    unless given a context: the HTTP client of the calls between functions and the one
    reading Secret Manager share this one. The bundle is loaded at the context's first
    TLS handshake, not when the context is made: inside the cluster the functions call
    each other (and fetch the JWKS) over plain HTTP, so most processes never need it.
    Until then the context trusts nothing, so a handshake can't pass unverified.
    """
    return _DeferredTrust()


class _DeferredTrust(ssl.SSLContext):
    """``PROTOCOL_TLS_CLIENT`` (certificates and host names checked) whose trust store is
    filled just before its first handshake, once, thread-safely."""

    def __new__(cls) -> _DeferredTrust:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        self._trust_lock = threading.Lock()
        self._trusted = False

    def _trust(self) -> None:
        if self._trusted:
            return
        with self._trust_lock:
            if not self._trusted:
                if os.environ.get("SSL_CERT_FILE"):
                    self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
                elif os.environ.get("SSL_CERT_DIR"):
                    self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
                else:
                    import certifi

                    self.load_verify_locations(cafile=certifi.where())
                self._trusted = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._trust()
        return super().wrap_bio(*args, **kwargs)


def client() -> httpx.AsyncClient:
    """The process's shared connection pool (one per event loop)."""
    global _client, _loop
    loop = asyncio.get_running_loop()
    if _client is None or _loop is not loop:
        import httpx

        _client = httpx.AsyncClient(
            verify=tls(),
            timeout=httpx.Timeout(10.0, connect=3.0),
            # idle connections dropped after 1 s, long before a function closes its end
            # (shared/server.py): a request sent on a connection the server is closing
            # fails unanswered (a 503 to the caller), which the soak met with gunicorn's 2 s
            limits=httpx.Limits(
                max_connections=100, max_keepalive_connections=20, keepalive_expiry=1.0
            ),
        )
        _loop = loop
    return _client


def propagation_headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    request_id = logs.request_id_var.get()
    if request_id:
        headers["X-Request-ID"] = request_id
    trace = logs.trace_var.get()
    if trace is not None:
        headers["traceparent"] = trace.traceparent()
    return headers


def forwarded(source: Any) -> dict[str, str]:
    """The caller's identity to forward to another function: ``Authorization`` and, for a
    service acting for a user, ``X-Acting-User`` (a request, or its headers)."""
    given = source.headers if hasattr(source, "headers") else source
    lowered = {str(k).lower(): v for k, v in given.items()}
    return {
        name: lowered[name.lower()]
        for name in ("Authorization", "X-Acting-User")
        if lowered.get(name.lower())
    }


async def request(
    method: str,
    url: str,
    *,
    retries: int = 2,
    retry_unsafe: bool = False,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying idempotent ones on transient failures.

    ``retry_unsafe`` retries a POST too, for calls the receiver dedupes (events by id).

    Raises:
        httpx.TransportError: the last attempt failed to connect or timed out.
    """
    import httpx

    method = method.upper()
    attempts = 1 + (retries if method in IDEMPOTENT or retry_unsafe else 0)
    merged = {**propagation_headers(), **(headers or {})}
    for attempt in range(attempts):
        try:
            response = await client().request(method, url, headers=merged, **kwargs)
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
        else:
            if response.status_code not in RETRY_STATUSES or attempt == attempts - 1:
                return response
        await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
    raise AssertionError("unreachable")


async def call(dependency: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to another function, its refusals raised as this platform's errors.

    Args:
        dependency: The other function's name, put in messages and 503 problems.

    Raises:
        Unauthorized: it answered 401 (it refused the forwarded credentials).
        Forbidden: 403. NotFound: 404. ValidationFailed: 422.
        RateLimited: 429, with its ``Retry-After``.
        Unavailable: it could not be reached, or answered anything else but 2xx.
    """
    from shared import errors

    try:
        response = await request(method, url, **kwargs)
    except transport_errors() as e:
        raise errors.Unavailable(dependency) from e
    status = response.status_code
    if status < 300:
        return response
    message = f"{dependency}: {detail(response)}"
    if status == 401:
        raise errors.Unauthorized(f"{dependency} refused the credentials.")
    if status == 403:
        raise errors.Forbidden(message)
    if status == 404:
        raise errors.NotFound(message)
    if status == 422:
        raise errors.ValidationFailed(_problem(response).get("errors") or [], detail=message)
    if status == 429:
        retry = response.headers.get("retry-after", "1")
        raise errors.RateLimited(message, retry_after=int(retry) if retry.isdigit() else 1)
    raise errors.Unavailable(dependency, detail=f"{dependency} answered {status}.")


async def call_for(
    answer: type[Answer], dependency: str, method: str, url: str, **kwargs: Any
) -> Answer:
    """:func:`call`, its answer read as the model ``answer`` (the part of the other
    function's JSON this one uses; unknown fields are the model's to ignore or refuse).

    Raises:
        Unavailable: as :func:`call`, and when the body is not such an answer.
    """
    return read(answer, dependency, await call(dependency, method, url, **kwargs))


def read(answer: type[Answer], dependency: str, response: httpx.Response) -> Answer:
    """The body of a 2xx ``response`` as the model ``answer``.

    Raises:
        Unavailable: the body is not JSON of that shape (a broken or newer dependency is
            a 503 for the caller, never a 500).
    """
    from pydantic import ValidationError

    from shared import errors

    try:
        return answer.model_validate_json(response.content)
    except ValidationError as e:
        raise errors.Unavailable(
            dependency, detail=f"{dependency} answered a body that is not a {answer.__name__}."
        ) from e


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def detail(response: httpx.Response) -> str:
    """The ``detail`` of a problem answer (or its status), at most 300 characters."""
    return str(_problem(response).get("detail", response.status_code))[:300]


async def get(url: str, **kwargs: Any) -> httpx.Response:
    return await request("GET", url, **kwargs)


async def close() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None
