"""The twelve functions started from their built images, behind the local gateway.

Each container gets the environment its Knative manifest gives it (literal values and
ConfigMaps, ``ENVIRONMENT=production`` included), the Secrets it references filled with
local values the way ``make run`` generates them (signing keys, the admin's password,
the platform service account; any other key a random value, the same for every function
that references it), and the local wiring: ``DATABASE_URL`` (through a proxy that can
stall queries), ``REDIS_URL``, every ``<FUNCTION>_URL``, ``JWKS_URL`` and ``K_SINK`` (the gateway's
local Broker). Migrations run from the host first, as the cluster's Jobs do, since the
manifests say ``MIGRATE_ON_START=false``. Ports come from 20000-32767
(``localdev.local.free_port``), away from ``make run``'s 8000-8072.

Run by ``make containers`` after ``make images`` (``.ci/run`` does both); ``make test``
deselects it (marker ``containers``): it needs images, which need a container engine.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from localdev import discovery, images, local
from shared import migrations
from tests.containers._stall import StallingProxy
from tests.containers._support import (
    Container,
    ContainerPlatform,
    _wait,
)
from tests.e2e._platform import GatewayThread

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def engine() -> images.Engine:
    try:
        return images.engine()
    except images.NoEngine as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def built(engine: images.Engine) -> dict[str, str]:
    """Image of every service, by service name; fails (not skips) when one is missing."""
    found = {s.name: images.image(s) for s in discovery.discover(ROOT)}
    missing = [name for name in found.values() if not engine.has(name)]
    if missing:
        pytest.fail(f"not built: {missing}; run `make images` first")
    return found


def _signing_keys() -> str:
    """AUTH_SIGNING_KEYS as a JSON list of one PEM: one line, as an -e value wants it."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps([pem])


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    auth = f"{parts.username}@" if parts.username else ""
    if parts.password:
        auth = f"{parts.username}:{parts.password}@"
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{port}"))


@pytest.fixture(scope="session")
def platform(
    engine: images.Engine,
    built: dict[str, str],
    database_url: str,
    redis_url: str,
    redis_prefix: str,
) -> Iterator[ContainerPlatform]:
    # a container sees the host's network, not its files: no unix sockets (embedded servers)
    if not redis_url.startswith("redis://"):
        pytest.fail("the containers need Redis over TCP: set TEST_REDIS_URL=redis://...")
    if not urlsplit(database_url).hostname:
        pytest.fail("the containers need PostgreSQL over TCP: set TEST_DATABASE_URL")
    services = discovery.discover(ROOT)
    asyncio.run(
        migrations.migrate(database_url, [ROOT / "functions" / s.package for s in services])
    )
    target = urlsplit(database_url)
    proxy = StallingProxy(target.hostname or "127.0.0.1", target.port or 5432, local.free_port())
    proxy.start()

    specs = [
        discovery.FunctionSpec(f.service, f.target, f.kind, local.free_port(), f.source)
        for s in services
        for f in s.functions
    ]
    gateway_port = local.free_port()
    urls = {spec.name: f"http://127.0.0.1:{spec.port}" for spec in specs}
    admin_password = secrets.token_urlsafe(18)
    generated = {  # what `make run` generates, and the Secrets' other keys
        "DATABASE_URL": _with_port(database_url, proxy.port),
        "REDIS_URL": redis_url,
        "AUTH_SIGNING_KEYS": _signing_keys(),
        "ADMIN_PASSWORD": admin_password,
        "PLATFORM_CLIENT_ID": "platform-containers",
        "PLATFORM_CLIENT_SECRET": secrets.token_urlsafe(32),
    }
    wiring = {
        "REDIS_KEY_PREFIX": f"{redis_prefix}containers:",
        **{f"{s.target.upper()}_URL": urls[s.name] for s in specs},
        "JWKS_URL": f"{urls['auth-tokens']}/.well-known/jwks.json",
        "K_SINK": f"http://127.0.0.1:{gateway_port}/_broker",
    }
    containers: dict[str, Container] = {}
    admin_email = ""
    for spec in sorted(specs, key=lambda s: s.name != "auth-tokens"):  # the others need its JWKS
        env = images.manifest_env(spec.name)
        for key in images.secret_keys(spec.name):
            generated.setdefault(key, secrets.token_urlsafe(32))
            env[key] = generated[key]
        env.update(wiring)
        env["PORT"] = str(spec.port)
        admin_email = env.get("ADMIN_EMAIL", admin_email)
        container = Container(
            spec, built[spec.service], f"acr-test-{spec.name}", urls[spec.name], env
        )
        engine.run(container.image, container.name, env)
        containers[spec.name] = container
        if spec.name == "auth-tokens":
            _wait(engine, container)
    front = None
    try:
        for container in containers.values():
            _wait(engine, container)
        front = GatewayThread(urls, gateway_port)
        front.start()
        yield ContainerPlatform(
            engine,
            f"http://127.0.0.1:{gateway_port}",
            containers,
            admin_email,
            admin_password,
            proxy,
            built,
        )
    finally:
        if front is not None:
            front.stop()
        running = [c for c in containers.values() if c.stopped is None]
        with ThreadPoolExecutor(max_workers=len(running) or 1) as pool:
            list(pool.map(lambda c: engine.stop(c.name), running))
        proxy.stop()
