"""events sends CloudEvents (binary mode, to ``K_SINK``) and reads them from requests.

In the cluster ``K_SINK`` is injected by a SinkBinding (the Broker's address); locally
it is the local broker of ``make run`` or, in tests, the worker's own URL. Delivery is
at-least-once: a receiver dedupes by the event ``id`` (its idempotency key), so sending
retries transient failures even though it is a POST.

Receiving routes are ``internal``: they answer only at a function's cluster-local
address (see ``is_cluster_local``), the one a Trigger or PingSource delivers to, because
Broker deliveries carry no token. Knative's public ingress routes only the public
domain's hostnames, so a request from outside the cluster cannot arrive with such a Host.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from typing import Any

from starlette.requests import Request

from shared import clients
from shared.errors import BadRequest, Unavailable

logger = logging.getLogger(__name__)
SOURCE_PREFIX = "//ai-codereview.dev/"
NAMESPACE = "ai-codereview"
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")  # one DNS label


def cluster_local_host(
    function: str, *, namespace: str = NAMESPACE, domain: str = "cluster.local"
) -> str:
    """The Host a Knative Trigger delivers with: the Service's cluster-local address."""
    return f"{function}.{namespace}.svc.{domain}"


def is_cluster_local(host: str, *, domain: str = "cluster.local") -> bool:
    """Whether ``host`` (a Host header, port allowed) is a cluster-local Service address:
    ``<name>.<namespace>.svc`` or ``<name>.<namespace>.svc.<domain>``."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    labels = name.lower().rstrip(".").split(".")
    suffix = ["svc", *domain.lower().strip(".").split(".")]
    for tail in (["svc"], suffix):
        if len(labels) == len(tail) + 2 and labels[2:] == tail:
            return all(_LABEL.fullmatch(label) for label in labels[:2])
    return False


def sink() -> str | None:
    """The event destination, ``K_SINK`` (None when events are not wired)."""
    return os.environ.get("K_SINK") or None


async def emit(
    event_type: str,
    data: dict[str, Any],
    *,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    extensions: dict[str, str] | None = None,
) -> str | None:
    """Send one CloudEvent in binary content mode; returns its id (None if no sink).

    Raises:
        Unavailable: the sink refused or could not be reached after retries.
    """
    from cloudevents.conversion import to_binary
    from cloudevents.http import CloudEvent

    target = sink()
    attributes = {
        "type": event_type,
        "source": SOURCE_PREFIX + source,
        "id": event_id or str(uuid.uuid4()),
        "datacontenttype": "application/json",
        **(extensions or {}),
    }
    if subject:
        attributes["subject"] = subject
    if target is None:
        logger.warning("K_SINK is not set: event %s %s not sent", event_type, attributes["id"])
        return None
    headers, body = to_binary(CloudEvent(attributes, data))
    try:
        response = await clients.request(
            "POST", target, content=body, headers=dict(headers), retries=3, retry_unsafe=True
        )
    except clients.transport_errors() as e:
        raise Unavailable("event-sink", detail=f"Event {event_type} could not be sent.") from e
    if response.status_code >= 300:
        raise Unavailable("event-sink", detail=f"The sink answered {response.status_code}.")
    return str(attributes["id"])


async def read(request: Request) -> Any:
    """The CloudEvent of a request (binary or structured mode).

    Raises:
        BadRequest: the request is not a valid CloudEvent.
    """
    from cloudevents.exceptions import GenericException
    from cloudevents.http import from_http

    body = await request.body()
    try:
        return from_http(dict(request.headers), body)
    except GenericException as e:
        raise BadRequest(f"Not a CloudEvent: {e}") from None
