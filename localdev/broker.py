"""broker plays Knative Eventing for ``make run``: the Broker and the PingSource.

The Triggers and the PingSource are read from ``knative/eventing/`` itself, so the
local wiring is the cluster's: an event POSTed to the gateway's ``/_broker`` (the
functions' ``K_SINK`` locally) is answered 202 and delivered, in binary or structured
mode as received, to every subscriber whose Trigger filter matches its type, with
retries and exponential backoff as the Broker's delivery spec says. Like the cluster's
Broker it delivers with the subscriber's cluster-local Host
(``<name>.<namespace>.svc.cluster.local``), the only Host at which the functions' internal
event routes answer. Development only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from shared import events
from shared.errors import BadRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    name: str
    event_type: str | None
    function: str
    path: str
    namespace: str = events.NAMESPACE


def _documents(path: Path) -> list[dict[str, Any]]:
    import yaml

    if not path.exists():
        return []
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def load_triggers(eventing: Path) -> list[Subscription]:
    """The Triggers of ``knative/eventing/triggers.yaml`` as (type -> function, path)."""
    subscriptions = []
    for doc in _documents(eventing / "triggers.yaml"):
        spec = doc.get("spec", {})
        subscriber = spec.get("subscriber", {})
        subscriptions.append(
            Subscription(
                doc["metadata"]["name"],
                spec.get("filter", {}).get("attributes", {}).get("type"),
                subscriber.get("ref", {}).get("name", ""),
                subscriber.get("uri", "/") or "/",
                subscriber.get("ref", {}).get("namespace")
                or doc["metadata"].get("namespace", events.NAMESPACE),
            )
        )
    return subscriptions


def load_pings(eventing: Path) -> list[tuple[Subscription, str]]:
    """The PingSources of ``knative/eventing/pingsource.yaml`` with their JSON data."""
    pings = []
    for doc in _documents(eventing / "pingsource.yaml"):
        sink = doc["spec"]["sink"]
        subscription = Subscription(
            doc["metadata"]["name"],
            None,
            sink.get("ref", {}).get("name", ""),
            sink.get("uri", "/"),
            sink.get("ref", {}).get("namespace")
            or doc["metadata"].get("namespace", events.NAMESPACE),
        )
        pings.append((subscription, str(doc["spec"].get("data", "{}"))))
    return pings


class LocalBroker:
    """Fans events out to the functions named by the Triggers (name -> base URL)."""

    def __init__(
        self,
        subscriptions: list[Subscription],
        functions: dict[str, str],
        client: httpx.AsyncClient,
        *,
        retries: int = 5,
        backoff: float = 0.5,
    ) -> None:
        self.subscriptions = [s for s in subscriptions if s.function in functions]
        self.functions = functions
        self.client = client
        self.retries = retries
        self.backoff = backoff
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(self, request: Request) -> Response:
        body = await request.body()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower().startswith("ce-") or k.lower() == "content-type"
        }
        event_type = headers.get("ce-type") or _structured_type(body)
        if not event_type:
            raise BadRequest("The request is not a CloudEvent (no type).")
        for subscription in self.subscriptions:
            if subscription.event_type in (None, event_type):
                self._spawn(self.deliver(subscription, headers, body))
        return Response(status_code=202)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(
        self, subscription: Subscription, headers: dict[str, str], body: bytes
    ) -> bool:
        url = self.functions[subscription.function] + subscription.path
        host = events.cluster_local_host(subscription.function, namespace=subscription.namespace)
        headers = {**headers, "host": host}
        for attempt in range(self.retries + 1):
            try:
                answer = await self.client.post(url, content=body, headers=headers, timeout=60.0)
                if answer.status_code < 300:
                    return True
                if answer.status_code < 500 and answer.status_code not in (404, 408, 409, 429):
                    logger.warning(
                        "%s refused the event: %d", subscription.name, answer.status_code
                    )
                    return False
            except httpx.TransportError:
                pass
            await asyncio.sleep(self.backoff * 2**attempt)
        logger.error("Event for %s dropped after %d attempts", subscription.name, self.retries + 1)
        return False

    async def ping_forever(self, pings: list[tuple[Subscription, str]], *, interval: float) -> None:
        """Send each PingSource's event every ``interval`` seconds (its cron is every minute)."""
        while True:
            await asyncio.sleep(interval)
            for subscription, data in pings:
                if subscription.function in self.functions:
                    headers = {
                        "ce-specversion": "1.0",
                        "ce-id": str(uuid.uuid4()),
                        "ce-type": "dev.knative.sources.ping",
                        "ce-source": f"/apis/v1/namespaces/local/pingsources/{subscription.name}",
                        "content-type": "application/json",
                    }
                    self._spawn(self.deliver(subscription, headers, data.encode()))


def _structured_type(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value.get("type") if isinstance(value, dict) else None
