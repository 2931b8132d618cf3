"""The gateway's merged OpenAPI document of all twelve functions, built in-process from
each target's own ``/openapi.json``: the contract faults issue 9 item 16 found with
schemathesis stay fixed (cheaper here than in the fuzzing suite, and named)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from localdev import discovery
from shared import __version__, openapi


@pytest.fixture
async def merged(client_for: Callable[..., httpx.AsyncClient]) -> dict[str, Any]:
    documents: dict[str, dict[str, Any]] = {}
    for service in discovery.discover():
        for spec in service.functions:
            answer = await client_for(spec.target).get("/openapi.json")
            assert answer.status_code == 200, answer.text
            documents[spec.name] = answer.json()
    return openapi.merge(documents, title="AI Code Review Platform", version=__version__)


def _parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_reading_an_analysis_needs_no_provider(merged: dict[str, Any]) -> None:
    read = merged["paths"]["/analyses/{id}"]["get"]
    assert not any(
        p["required"] for (where, _), p in _parameters(read).items() if where == "query"
    ), read["parameters"]


async def test_both_usage_and_config_ref_schemas_survive_the_merge(merged: dict[str, Any]) -> None:
    schemas = merged["components"]["schemas"]
    for name in ("Usage", "ConfigRef"):
        variants = [n for n in schemas if n == name or n.endswith(name)]
        assert name in schemas and len(variants) >= 1, sorted(schemas)
        bodies = [repr(schemas[v]) for v in variants]
        assert len(set(bodies)) == len(bodies), variants  # no two names for one schema


async def test_revoke_and_chat_completions_describe_their_bodies(merged: dict[str, Any]) -> None:
    revoke = merged["paths"]["/revoke"]["post"]["requestBody"]
    assert "application/x-www-form-urlencoded" in revoke["content"], revoke
    form = _resolve(merged, revoke["content"]["application/x-www-form-urlencoded"]["schema"])
    assert "token" in form["properties"] and "token" in form.get("required", []), form
    chat = merged["paths"]["/v1/chat/completions"]["post"]["requestBody"]
    body = _resolve(merged, chat["content"]["application/json"]["schema"])
    assert {"model", "messages"} <= set(body.get("required", [])), body


async def test_every_parameter_says_whether_it_is_required(merged: dict[str, Any]) -> None:
    """Schemathesis left out query parameters the document did not mark required and got
    422s it did not expect: every declared parameter states it, path ones are required."""
    operations = [
        op for item in merged["paths"].values() for op in item.values() if isinstance(op, dict)
    ]
    assert len(operations) >= 60, len(operations)
    for operation in operations:
        for (where, name), parameter in _parameters(operation).items():
            assert "required" in parameter, (operation["operationId"], name)
            if where == "path":
                assert parameter["required"] is True, (operation["operationId"], name)


async def test_nothing_internal_is_listed(merged: dict[str, Any]) -> None:
    """Item 14: no event route, health path or cluster address in the public document,
    nor project-service's internal routes for auth-users; the admins' ``GET /users/{id}``
    is public (auth-users answers it to admins and platform services only)."""
    text = repr(merged)
    assert "x-internal" not in text and "svc.cluster.local" not in text
    hidden = {
        "/health",
        "/ready",
        "/health/startup",
        "/requeue",
        "/dead-letter",
        "/ab-tests/events",
        "/members/{user_id}",  # projects' routes for auth-users deleting a user
        "/members/{user_id}/sole-ownerships",
    }
    assert not hidden & set(merged["paths"]), hidden & set(merged["paths"])
    assert "post" not in merged["paths"].get("/", {}), merged["paths"].get("/")
    assert "get" in merged["paths"]["/users/{id}"], merged["paths"]["/users/{id}"]
