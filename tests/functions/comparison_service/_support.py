"""Helpers of comparison-service tests: experiments in versions, A/B tests, CloudEvents."""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx

from shared import events

CONFIG: dict[str, Any] = {
    "prompt_template": "Review {path} ({language}):\n{code}",
    "routing": {"candidates": [{"provider": "local", "model": "local-analyzers"}]},
    "analyzers": ["ruff"],
    "severity_threshold": "low",
    "token_budget": 2000,
}


async def experiment_with_versions(
    versions_url: str, headers: dict[str, str], count: int = 2
) -> tuple[str, list[str]]:
    """A new experiment in the real versions process and ``count`` versions of it."""
    async with httpx.AsyncClient(base_url=versions_url, headers=headers) as client:
        created = await client.post("/experiments", json={"name": f"exp-{uuid.uuid4().hex[:10]}"})
        assert created.status_code == 201, created.text
        experiment_id = created.json()["id"]
        ids = []
        for i in range(count):
            config = {**CONFIG, "token_budget": 1000 + i}
            version = await client.post(
                f"/experiments/{experiment_id}/versions", json={"config": config}
            )
            assert version.status_code == 201, version.text
            ids.append(version.json()["id"])
    return experiment_id, ids


def ab_test_body(experiment_id: str, version_ids: list[str], **extra: Any) -> dict[str, Any]:
    names = ["control", "treatment", "third", "fourth"]
    return {
        "name": f"test-{uuid.uuid4().hex[:10]}",
        "experiment_id": experiment_id,
        "variants": [
            {"name": names[i], "version_id": v, "weight": 1} for i, v in enumerate(version_ids)
        ],
        **extra,
    }


async def running_test(
    ab: httpx.AsyncClient, versions_url: str, headers: dict[str, str], **extra: Any
) -> dict[str, Any]:
    experiment_id, ids = await experiment_with_versions(versions_url, headers)
    created = await ab.post(
        "/ab-tests", json=ab_test_body(experiment_id, ids, **extra), headers=headers
    )
    assert created.status_code == 201, created.text
    started = await ab.post(f"/ab-tests/{created.json()['id']}/start", headers=headers)
    assert started.status_code == 200 and started.json()["status"] == "running", started.text
    return started.json()


def cloud_event(
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    structured: bool = False,
    key: bytes | None = None,
    **attributes: str,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a CloudEvent as the Broker delivers it to ab-tests: binary mode
    (as shared.events.emit sends it) or structured, at ab-tests' cluster-local Host, signed
    with the run's ``EVENT_SIGNING_KEY`` (or ``key``) as a platform producer signs it."""
    from cloudevents.conversion import to_binary, to_structured
    from cloudevents.http import CloudEvent

    attributes = {
        "type": event_type,
        "source": "//ai-codereview.dev/analysis-service",
        "id": event_id or str(uuid.uuid4()),
        "datacontenttype": "application/json",
        **attributes,
    }
    signing_key = key if key is not None else os.environ["EVENT_SIGNING_KEY"].encode()
    convert = to_structured if structured else to_binary
    headers, body = convert(CloudEvent(events.signed(attributes, data, signing_key), data))
    return {**headers, "host": events.cluster_local_host("ab-tests")}, body
