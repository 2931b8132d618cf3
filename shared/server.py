"""server sets what functions-framework's HTTP server does not let a deployment choose.

functions-framework serves an ASGI function with gunicorn and uvicorn's worker and fixes
their options in code; the keep-alive is gunicorn's default, 2 s. Behind Knative every
request reaches the container through the queue-proxy, which keeps idle connections to it
for 90 s (knative.dev/pkg's proxy transport is Go's ``http.DefaultTransport``), and
``make run``'s gateway and the functions' own clients keep theirs for 1 s. When the server
is the side that closes an idle connection, a request the caller sends on it at that
moment is reset unread: the caller cannot tell whether it was processed, so a ``POST``
fails (the queue-proxy answers 502, the gateway 503) instead of being retried. The rule
for any proxy in front of a server is that the server keeps idle connections longer than
the proxy does, so the proxy is always the one to retire them; :data:`KEEP_ALIVE_SECONDS`
does that for both callers.

An idle connection costs the function a socket and a few kilobytes; on SIGTERM uvicorn
closes idle connections at once, so a drain does not wait for them.
"""

from __future__ import annotations

KEEP_ALIVE_SECONDS = 95
"""How long the function's server keeps an idle connection open: longer than the
queue-proxy's 90 s and the platform's own clients' 1 s."""


def keep_connections_alive() -> None:
    """Have the uvicorn workers that gunicorn starts from now on keep idle connections
    :data:`KEEP_ALIVE_SECONDS`; called while the function's module is imported, which
    functions-framework does in the gunicorn master before it creates the worker (which
    imports ``uvicorn_worker`` there anyway).

    ``UvicornWorker.CONFIG_KWARGS`` is the worker's own way to override uvicorn's settings
    (meant for subclasses, which functions-framework does not let us name).
    """
    from uvicorn_worker import UvicornWorker

    UvicornWorker.CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
