"""Tests of shared/health.py: concurrent timed checks and the seed's health document."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from shared import health


async def _ok() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("connection refused by 127.0.0.1:1")


async def _silent() -> None:
    raise RuntimeError()


async def _hangs() -> None:
    await asyncio.sleep(30)


async def test_checks_report_healthy_and_unhealthy_components_in_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only the seed's members reach the unauthenticated probe answer; errors are logged."""
    caplog.set_level(logging.WARNING, logger="shared.health")
    components = await health.run_checks(
        {"database": _ok, "redis": _refused, "other": _silent}, limit_s=1.0
    )
    assert [c["name"] for c in components] == ["database", "redis", "other"]
    database, redis, other = components
    assert database["status"] == "healthy" and "error" not in database
    assert redis == {"name": "redis", "status": "unhealthy", "latency_ms": redis["latency_ms"]}
    assert other["status"] == "unhealthy" and "error" not in other
    assert "Readiness check redis failed: connection refused by 127.0.0.1:1" in caplog.messages
    assert "Readiness check other failed: RuntimeError" in caplog.messages, (
        "an empty message falls back to the type"
    )
    assert all(c["latency_ms"] >= 0 for c in components)


async def test_a_hanging_check_is_cut_off_and_unhealthy() -> None:
    (component,) = await health.run_checks({"slow": _hangs}, limit_s=0.05)
    assert component["status"] == "unhealthy"
    assert set(component) == {"name", "status", "latency_ms"}, component


async def test_no_checks_give_no_components() -> None:
    assert await health.run_checks({}, limit_s=1.0) == []


def test_body_has_the_seed_fields() -> None:
    document = health.body(
        service="auth-service",
        version="1.2.3",
        status="healthy",
        started_at=time.time() - 65,
        components=[{"name": "database", "status": "healthy", "latency_ms": 1.0}],
    )
    assert document["status"] == "healthy" and document["service"] == "auth-service"
    assert document["version"] == "1.2.3"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["timestamp"])
    assert document["uptime_seconds"] in (65, 66)
    assert document["components"][0]["name"] == "database"
    assert "detail" not in document


def test_body_carries_a_detail_when_given() -> None:
    document = health.body(
        service="s", version="1", status="draining", started_at=0.0, components=[], detail="bye"
    )
    assert document["detail"] == "bye"


def test_health_paths_are_the_three_seed_paths() -> None:
    assert health.HEALTH_PATHS == {"/health", "/ready", "/health/startup"}
