"""``make run IMAGES=1``'s machinery: the runner starts every function from its image with the
settings a source process gets, and its stop drains them all to exit code 0.

The runner's own ports (8000-8072) may be in use on a shared machine, so the same
services are given free ports here; everything else is what ``make run IMAGES=1`` does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest

from localdev import discovery, local
from shared import migrations

pytestmark = [pytest.mark.containers, pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parents[2]


def test_the_runner_starts_every_function_from_its_image_and_drains_them(
    built: dict[str, str], database_url: str, redis_url: str, redis_prefix: str
) -> None:
    services = [
        dataclasses.replace(
            s, functions=[dataclasses.replace(f, port=local.free_port()) for f in s.functions]
        )
        for s in discovery.discover(ROOT)
    ]
    asyncio.run(
        migrations.migrate(database_url, [ROOT / "functions" / s.package for s in services])
    )
    specs = [f for s in services for f in s.functions]
    base = {
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_prefix}run-images:",
        "ADMIN_EMAIL": "admin@example.com",
        "ADMIN_PASSWORD": "a long admin passphrase",
        "PLATFORM_CLIENT_ID": "platform-run-images",
        "PLATFORM_CLIENT_SECRET": "a long platform client secret",
        "JWKS_URL": f"http://127.0.0.1:{specs[0].port}/.well-known/jwks.json",
        **discovery.service_urls(services),
    }
    started: list[str] = []
    try:
        local._start_containers(services, base, started)
        assert len(started) == len(specs) == 12
        for spec in specs:
            local.wait_for_function(f"http://127.0.0.1:{spec.port}", spec.name, timeout=120)
        token = httpx.post(
            f"http://127.0.0.1:{specs[0].port}/token",
            data={
                "grant_type": "client_credentials",
                "client_id": base["PLATFORM_CLIENT_ID"],
                "client_secret": base["PLATFORM_CLIENT_SECRET"],
                "scope": "internal",
            },
            timeout=30,
        )
        assert token.status_code == 200, token.text  # the settings reached the containers
    finally:
        codes = local._stop_containers(started)
    assert codes == [0] * len(started)
