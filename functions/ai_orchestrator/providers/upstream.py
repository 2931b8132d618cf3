"""upstream is the orchestrator's HTTP client to the model providers' APIs.

aiohttp, not the httpx every function uses between functions (``shared.clients``): every
chat completion and every reviewed chunk is one POST here, often 50 or more in flight, and
httpx (0.28, httpcore 1.0) assigns each request to a connection by scanning the whole pool
and polling every idle socket. Measured side by side in one process (50 in flight,
keep-alive, a 300-byte JSON answer from a local server, CPU per request of the client):
httpx 4,090 us, httpx on aiohttp's transport (``httpx-aiohttp``) 640 us, aiohttp 225 us.
RESULTS.md ("The chat gateway beside LiteLLM") has the gateway's figures before and after.

One session per event loop (a session is bound to the loop it was made on), opened on the
first provider call, so a function that never calls a provider (the local reviewer's
``POST /review``) neither imports aiohttp nor holds the session. Every connection is kept
between calls for 4 s idle, under the 5 s uvicorn and most servers allow, so a call beyond
the first few in flight does not open (and TLS-handshake) a connection of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp

CONNECTIONS = 100
KEEPALIVE_SECONDS = 4.0
CONNECT_SECONDS = 5.0

_session: aiohttp.ClientSession | None = None
_loop: asyncio.AbstractEventLoop | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A provider's answer, read whole: status, headers (case-insensitive) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Unreachable(Exception):
    """No answer: the connection failed or broke (``timed_out`` when it took too long)."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


def session() -> aiohttp.ClientSession:
    """The process's session to the providers (one per event loop), closed by ``close``."""
    global _session, _loop
    loop = asyncio.get_running_loop()
    if _session is None or _session.closed or _loop is not loop:
        import aiohttp

        _session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=CONNECTIONS, limit_per_host=0, keepalive_timeout=KEEPALIVE_SECONDS
            ),
            # the platform's own headers only: no cookie jar between users' calls
            cookie_jar=aiohttp.DummyCookieJar(),
            raise_for_status=False,
        )
        _loop = loop
    return _session


async def post(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    seconds: float,
    client: aiohttp.ClientSession | None = None,
) -> Answer:
    """POST ``body`` (JSON) to ``url`` and read the whole answer within ``seconds``.

    Raises:
        Unreachable: no answer (connection refused or reset, timed out, malformed HTTP).
    """
    import aiohttp

    http = client or session()
    timeout = aiohttp.ClientTimeout(total=seconds, sock_connect=min(CONNECT_SECONDS, seconds))
    sent = {"Content-Type": "application/json", **headers}
    try:
        async with http.post(url, data=body, headers=sent, timeout=timeout) as response:
            return Answer(response.status, response.headers, await response.read())
    except TimeoutError as error:
        raise Unreachable(f"no answer within {seconds:g}s", timed_out=True) from error
    except aiohttp.ClientError as error:
        raise Unreachable(type(error).__name__) from error


async def close() -> None:
    """Close the session (SIGTERM, after the in-flight calls drained); one made on another
    event loop (a test's) is forgotten, its loop gone."""
    global _session
    if _session is not None and not _session.closed and _loop is asyncio.get_running_loop():
        await _session.close()
    _session = None
