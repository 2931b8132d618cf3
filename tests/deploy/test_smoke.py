"""The post-deploy smoke test (cloudbuild/scripts/smoke.py) against the whole platform on
real functions-framework processes, with the local Broker standing in for Knative's: it
passes when the platform works and fails, with a reason, when a function it calls is gone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from tests.deploy._repo import ROOT
from tests.e2e import _platform

pytestmark = pytest.mark.e2e
SMOKE = ROOT / "cloudbuild" / "scripts" / "smoke.py"


async def _admin_sql(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def platform(
    postgres_server_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[_platform.Platform]:
    """A platform on its own database: its admin and the smoke projects are its own, and
    the other end-to-end modules' admins never meet them."""
    name = f"acr_smoke_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_sql(postgres_server_url, f'create database "{name}"'))
    database_url = urllib.parse.urlsplit(postgres_server_url)._replace(path=f"/{name}").geturl()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_prefix}smoke:",
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        "DEFAULT_EXPERIMENT": f"smoke-{uuid.uuid4().hex[:8]}",
    }
    running, front = _platform.start(env, tmp_path_factory.mktemp("platform"))
    try:
        yield running
    finally:
        _platform.stop(running, front)
        asyncio.run(
            _admin_sql(postgres_server_url, f'drop database if exists "{name}" with (force)')
        )


def _smoke(platform: _platform.Platform, **overrides: str) -> subprocess.CompletedProcess[str]:
    urls = platform.functions
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "AUTH_TOKENS_URL": urls["auth-tokens"],
        "PROJECTS_URL": urls["projects"],
        "PROJECT_FILES_URL": urls["project-files"],
        "ANALYSES_URL": urls["analyses"],
        "HEALTH_URLS": " ".join(urls.values()),
        "ADMIN_EMAIL": platform.admin_email,
        "ADMIN_PASSWORD": platform.admin_password,
        "SMOKE_TIMEOUT_SECONDS": "90",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, str(SMOKE)], env=env, capture_output=True, text=True, timeout=200
    )


def test_a_working_platform_passes_with_a_completed_analysis(
    platform: _platform.Platform,
) -> None:
    done = _smoke(platform)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in (
        "ok   token",
        "completed through the Broker",
        "findings include taint:command-injection",
    ):
        assert line in done.stdout, done.stdout
    assert done.stdout.count("ok   health") == len(platform.functions)


def test_a_wrong_password_fails_the_smoke_test(platform: _platform.Platform) -> None:
    done = _smoke(platform, ADMIN_PASSWORD="not the admin password")
    assert done.returncode == 1, done.stdout
    assert "FAIL POST" in done.stderr and "/token" in done.stderr, done.stderr


def test_a_function_that_is_down_fails_the_smoke_test(platform: _platform.Platform) -> None:
    done = _smoke(
        platform,
        HEALTH_URLS="http://127.0.0.1:9",
        ANALYSES_URL="http://127.0.0.1:9",
        SMOKE_RETRIES="1",
    )
    assert done.returncode == 1, done.stdout
    assert "FAIL GET http://127.0.0.1:9/health/startup: 0" in done.stderr, done.stderr
