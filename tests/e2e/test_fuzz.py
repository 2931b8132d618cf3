"""Every documented endpoint fuzzed through the gateway: no input makes a function answer
5xx, and every answer's status and body are the ones the OpenAPI document declares
(schemathesis generates bodies, paths and queries from the merged document). It found a
plain-text 500 on encoded control characters, NUL in JSON text reaching PostgreSQL, a
refresh-token deadlock, and (with all its checks) validation before authentication,
lax JSON types, and answers the document described wrongly; this keeps them found."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from localdev import local
from tests.e2e import _platform


@pytest.fixture(scope="module")
def fuzzed(
    postgres_server_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[_platform.Platform]:
    """A platform on its own database and key prefix: fuzzing as an admin writes quota
    rules, providers and experiments that no other test should see."""
    name = f"acr_fuzz_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres_server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'create database "{name}"'))
    env = {
        "DATABASE_URL": local.with_database(postgres_server_url, name),
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_prefix}fuzz-{uuid.uuid4().hex[:8]}:",  # the run cleans it
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        # gunicorn's and uvicorn's own lines (a worker booted again, a request uvicorn
        # refused as invalid): what a function did when the gateway could not reach it
        "GUNICORN_LOG_LEVEL": "info",
    }
    running, front = _platform.start(env, tmp_path_factory.mktemp("fuzz"))
    yield running
    _platform.stop(running, front)
    asyncio.run(admin(f'drop database if exists "{name}" with (force)'))


@pytest.mark.timeout(1200)  # every operation, then stateful sequences along the links
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    fuzzed: _platform.Platform, tmp_path: Path
) -> None:
    login = httpx.post(
        f"{fuzzed.url}/token",
        timeout=60,  # one Argon2 verification, on a machine busy with the platform
        data={
            "grant_type": "password",
            "username": fuzzed.admin_email,
            "password": fuzzed.admin_password,
        },
    )
    assert login.status_code == 200, login.text
    document = httpx.get(f"{fuzzed.url}/openapi.json", timeout=60).json()
    links = [
        name
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for answer in operation.get("responses", {}).values()
        for name in answer.get("links", {})
    ]
    assert len(links) >= 20, "creations link to what they created (the stateful phase)"
    internal = [
        op for item in document["paths"].values() for op in item.values() if isinstance(op, dict)
    ]
    assert not any(op.get("x-internal") for op in internal), "internal routes are not listed"
    tool = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert tool, "schemathesis is a dev requirement"
    command = [
        tool, "run", f"{fuzzed.url}/openapi.json",
        "--header", f"Authorization: Bearer {login.json()['access_token']}",
        "--checks", "not_a_server_error,status_code_conformance,response_schema_conformance",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", "30",
        "--seed", "20261126",
        "--request-timeout", "20",
    ]  # fmt: skip
    result = subprocess.run(  # noqa: S603 - fixed argv
        command,
        capture_output=True,
        text=True,
        timeout=1100,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"},
        check=False,
    )
    report = result.stdout[-6000:] + _server_lines(fuzzed)
    (tmp_path / "schemathesis.txt").write_text(result.stdout)
    print(result.stdout[-3000:])
    assert result.returncode == 0, report
    assert "Server error" not in report, report
    stateful = [line for line in result.stdout.splitlines() if "Stateful" in line]
    assert stateful and not any("skip" in line.lower() for line in stateful), stateful


_START_LINES = (
    "Starting gunicorn",
    "Listening at",
    "Using worker",
    "Control socket listening",
    "Started server process",
    "Waiting for application startup",
    "Application startup complete",
)


def _server_lines(platform: _platform.Platform) -> str:
    """What each function's gunicorn and uvicorn said after its start (a worker booted
    again, a request refused as invalid), for the report: a gateway 503 then shows what
    the function did."""
    lines = []
    for name in platform.functions:
        boots = 0
        for line in platform.log_of(name).splitlines():
            boots += "Booting worker" in line
            if any(start in line for start in _START_LINES) or (
                "Booting worker" in line and boots == 1
            ):
                continue
            lines.append(f"{name}: {line}")
    return "\nfunction servers after their start:\n" + "\n".join(lines[-60:])
