"""events sends CloudEvents (binary mode, to ``K_SINK``) and reads them from requests.

In the cluster ``K_SINK`` is injected by a SinkBinding (the Broker's address); locally
it is the local broker of ``make run`` or, in tests, the worker's own URL. Delivery is
at-least-once: a receiver dedupes by the event ``id`` (its idempotency key), so sending
retries transient failures even though it is a POST.

Events are authenticated end to end. A Broker delivers without a user token, and inside
the cluster any pod can reach a function's cluster-local address, so the ``Host`` proves
nothing. Every event the platform emits therefore carries its producer's proof in the
extension attribute ``acrsignature``: ``v1=`` and an HMAC-SHA256, keyed with
``EVENT_SIGNING_KEY``, over the event's ``id``, ``type``, ``source``, ``time`` and its data
in canonical JSON (so it survives a Broker that turns structured mode into binary or
reorders keys). A consumer (``delivery``) rejects with 403 an event that is unsigned,
signed with another key, or whose ``time`` is outside ``EVENT_MAX_AGE_SECONDS``, and acks
without effect an event id it has already handled (the id is remembered in Redis for the
same window, per consumer, and only once the handler succeeded, so the Broker's own
redelivery after a 5xx still gets through). HMAC and not a public-key signature: the
producers and consumers are this platform's own functions, sharing one Secret, and a
shared key costs microseconds where a signature costs a key-management story per service.
Several keys may be given, separated by commas: the first signs, every one verifies
(rotation without a flag day).

Receiving routes are also ``internal``: they answer only at a function's cluster-local
address (see ``is_cluster_local``), the one a Trigger or PingSource delivers to; Knative's
public ingress routes only the public domain's hostnames, so a request from outside the
cluster cannot arrive with such a Host.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from shared import clients
from shared.config import BaseConfig
from shared.errors import BadRequest, Forbidden, Unavailable

if TYPE_CHECKING:
    from shared.cache import Cache

logger = logging.getLogger(__name__)
SOURCE_PREFIX = "//ai-codereview.dev/"
NAMESPACE = "ai-codereview"
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")  # one DNS label
SIGNATURE = "acrsignature"
"""The extension attribute holding the producer's signature (CloudEvents names: a-z0-9)."""
_SCHEME = "v1="
FUTURE_SKEW_SECONDS = 60
"""How far ahead of this clock an event's ``time`` may be (clocks of two nodes differ)."""


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


def signing_keys(settings: BaseConfig) -> list[bytes]:
    """The configured event keys, current first; empty when none is configured."""
    if settings.event_signing_key is None:
        return []
    raw = settings.event_signing_key.get_secret_value()
    return [k.strip().encode() for k in raw.split(",") if k.strip()]


def signature(key: bytes, attributes: dict[str, Any], data: Any) -> str:
    """``v1=<base64url HMAC-SHA256>`` over id, type, source, time and canonical JSON data.

    Each part is length-prefixed, so no two different events share the signed text.
    """
    parts = [str(attributes.get(name) or "") for name in ("id", "type", "source", "time")]
    parts.append(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    message = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return _SCHEME + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed(attributes: dict[str, Any], data: Any, key: bytes) -> dict[str, Any]:
    """``attributes`` with a ``time`` (now, unless given) and the signature made with ``key``."""
    stamped = {"time": datetime.now(UTC).isoformat(), **attributes}
    return {**stamped, SIGNATURE: signature(key, stamped, data)}


def verify(event: Any, settings: BaseConfig, *, now: datetime | None = None) -> None:
    """Check an incoming event's signature and age.

    Raises:
        Forbidden: the event is unsigned, forged (no configured key made its signature),
            carries no ``time``, or is older than ``EVENT_MAX_AGE_SECONDS`` (or from the
            future); every consumer refuses it whatever its Host.
    """
    given = event.get(SIGNATURE)
    if not isinstance(given, str) or not given.startswith(_SCHEME):
        raise Forbidden("The event is not signed by a platform producer.")
    attributes = {name: event.get(name) for name in ("id", "type", "source", "time")}
    data = event.get_data()
    keys = signing_keys(settings)
    if not any(hmac.compare_digest(given, signature(k, attributes, data)) for k in keys):
        raise Forbidden("The event's signature is not valid.")
    produced = _time(attributes["time"])
    age = ((now or datetime.now(UTC)) - produced).total_seconds()
    if age > settings.event_max_age_seconds or age < -FUTURE_SKEW_SECONDS:
        raise Forbidden(f"The event is outside the {settings.event_max_age_seconds} s window.")


def produced_at(event: Any) -> datetime:
    """When a verified event was produced (its signed ``time``)."""
    return _time(event.get("time"))


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        stamp = value
    else:
        try:
            stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise Forbidden("The event has no valid time.") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


@asynccontextmanager
async def delivery(
    request: Request, *, consumer: str, settings: BaseConfig, redis: Cache
) -> AsyncIterator[Any]:
    """Read, authenticate and de-duplicate one delivery; yields the event, or None for an
    event id this consumer already handled (ack it without effect).

    The id is claimed in Redis (``SET NX`` with the age window as TTL, so an id is
    remembered as long as its signature would pass) before the handler runs and released
    if the handler fails, so concurrent replays run once and a redelivery after a 5xx runs.

    Raises:
        BadRequest: the request is not a CloudEvent.
        Forbidden: see ``verify``.
        Unavailable: Redis is down (the Broker will deliver again).
    """
    from shared.cache import down_errors

    event = await read(request)
    verify(event, settings)
    identity = hashlib.sha256(f"{event['source']}\n{event['id']}".encode()).hexdigest()
    key = redis.key("event-seen", consumer, identity)
    ttl = int(settings.event_max_age_seconds + FUTURE_SKEW_SECONDS)
    try:
        fresh = await redis.client().set(key, b"1", nx=True, ex=ttl)
    except down_errors() as e:
        raise Unavailable("redis", detail="Event de-duplication is unavailable.") from e
    if not fresh:
        yield None
        return
    try:
        yield event
    except BaseException:
        try:
            await redis.client().delete(key)
        except down_errors():
            logger.warning("Could not release event %s after a failure", event["id"])
        raise


async def emit(
    event_type: str,
    data: dict[str, Any],
    *,
    settings: BaseConfig,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    extensions: dict[str, str] | None = None,
) -> str | None:
    """Send one signed CloudEvent in binary content mode; returns its id (None if no sink).

    Raises:
        Unavailable: no signing key, or the sink refused or could not be reached after
            retries.
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
    keys = signing_keys(settings)
    if not keys:  # every consumer would refuse an unsigned event: say so here instead
        raise Unavailable("event-sink", detail="EVENT_SIGNING_KEY is not configured.")
    attributes = signed(attributes, data, keys[0])
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
