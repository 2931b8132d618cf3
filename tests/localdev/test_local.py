"""Tests of localdev/local.py: discovery, ports, database URLs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from localdev import discovery, local


def test_discover_finds_auth_service_and_its_two_functions() -> None:
    services = {s.name: s for s in discovery.discover()}
    auth = services["auth-service"]
    assert (auth.package, auth.port) == ("auth_service", 8001)
    found = [(f.target, f.port, f.kind, f.name) for f in auth.functions]
    assert found == [
        ("auth_tokens", 8011, "http", "auth-tokens"),
        ("auth_users", 8012, "http", "auth-users"),
    ]
    assert all(
        f.source == discovery.ROOT / "functions/auth_service/main.py" for f in auth.functions
    )


def test_discover_reads_ports_and_kinds_without_importing(tmp_path: Path) -> None:
    service = tmp_path / "functions" / "demo_service"
    service.mkdir(parents=True)
    (service / "__init__.py").write_text('"""Demo."""\nLOCAL_PORT = 8007\n')
    (service / "main.py").write_text(
        "import nothing_installed_here\n"
        "@functions_framework.aio.http\nasync def demo_api(request): ...\n"
        "def helper(): ...\n"
        "@functions_framework.aio.cloud_event\nasync def demo_worker(event): ...\n"
    )
    (demo,) = discovery.discover(tmp_path)
    assert (demo.name, demo.port) == ("demo-service", 8007)
    assert [(f.target, f.kind, f.port) for f in demo.functions] == [
        ("demo_api", "http", 8071),
        ("demo_worker", "cloudevent", 8072),
    ]


def test_each_service_port_is_its_packages_local_port_constant() -> None:
    import importlib

    for service in discovery.discover():
        package = importlib.import_module(f"functions.{service.package}")
        assert service.port == package.LOCAL_PORT, service.name


def test_local_port_is_the_value_python_gives_not_the_text(tmp_path: Path) -> None:
    service = tmp_path / "functions" / "demo_service"
    service.mkdir(parents=True)
    (service / "__init__.py").write_text("BASE = 8000\nLOCAL_PORT = BASE + 9\n")
    (service / "main.py").write_text("")
    (demo,) = discovery.discover(tmp_path)
    assert demo.port == 8009


@pytest.mark.parametrize("body", ['"""No port."""\n', 'LOCAL_PORT = "8007"\n'])
def test_a_missing_or_non_integer_local_port_names_the_file(tmp_path: Path, body: str) -> None:
    service = tmp_path / "functions" / "demo_service"
    service.mkdir(parents=True)
    (service / "__init__.py").write_text(body)
    (service / "main.py").write_text("")
    with pytest.raises(RuntimeError, match="demo_service/__init__.py does not define LOCAL_PORT"):
        discovery.discover(tmp_path)


def test_function_ports_follow_the_service_port() -> None:
    assert discovery.function_port(8001, 0) == 8011
    assert discovery.function_port(8001, 1) == 8012
    assert discovery.function_port(8007, 1) == 8072


def test_with_database_replaces_only_the_path() -> None:
    url = "postgresql://app:pw@db.local:5433/postgres?sslmode=disable"
    assert (
        local.with_database(url, "acr") == "postgresql://app:pw@db.local:5433/acr?sslmode=disable"
    )
    assert local.with_database("postgresql://h", "x") == "postgresql://h/x"


def test_free_port_is_bindable() -> None:
    import socket

    port = local.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_free_port_never_repeats_and_stays_below_the_ephemeral_range() -> None:
    ports = [local.free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(20000 <= p < min(low, 32768) for p in ports)


def test_free_port_skips_a_port_something_listens_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    taken = local.free_port()
    with socket.socket() as held:
        held.bind(("127.0.0.1", taken))
        held.listen()
        monkeypatch.setattr(local, "_handed_out", set())  # forget it: only the bind refuses it
        # the scan starts exactly at the held port, so it has to step over it
        monkeypatch.setattr(local.random, "randrange", lambda _: local._PORTS.index(taken))
        port = local.free_port()
    assert port != taken
    assert port in local._PORTS


def test_wait_for_function_names_the_function_that_answers_instead(
    start_function: Callable[..., Any],
) -> None:
    projects = start_function("projects")
    with pytest.raises(RuntimeError, match="served by 'projects', not 'auth-users'"):
        local.wait_for_function(projects.url, "auth-users", timeout=10)
    assert local.wait_for_function(projects.url, "projects", timeout=10) >= 0


def test_ensure_database_creates_once_and_is_idempotent(postgres_server_url: str) -> None:
    name = f"acr_local_{uuid.uuid4().hex[:8]}"

    async def exists() -> bool:
        conn = await asyncpg.connect(postgres_server_url)
        try:
            return bool(await conn.fetchval("select 1 from pg_database where datname = $1", name))
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(postgres_server_url)
        try:
            await conn.execute(f'drop database if exists "{name}" with (force)')
        finally:
            await conn.close()

    try:
        url = local.ensure_database(postgres_server_url, name)
        assert url == local.with_database(postgres_server_url, name)
        assert asyncio.run(exists())
        assert local.ensure_database(postgres_server_url, name) == url
    finally:
        asyncio.run(drop())
    assert not asyncio.run(exists())


def test_the_embedded_postgres_admits_every_functions_full_pool(tmp_path: Path) -> None:
    """``make run`` starts all the functions on one embedded server: initdb's 100 clients
    refused the last pools under load, so the server allows them all (and keeps it)."""
    from shared.config import BaseConfig

    functions = sum(len(service.functions) for service in discovery.discover())
    pools = functions * BaseConfig.model_fields["db_pool_max_size"].default

    def allowed(handle: Any) -> int:
        return int(handle.psql("SHOW max_connections;").split()[2])

    _, handle = local.embedded_postgres(tmp_path / "pg")
    try:
        assert allowed(handle) >= pools + 20  # and room for migrations, tests, psql
    finally:
        local.stop_embedded(handle)
    _, again = local.embedded_postgres(tmp_path / "pg")  # the same folder, started again
    try:
        assert allowed(again) == local.EMBEDDED_MAX_CONNECTIONS
    finally:
        local.stop_embedded(again)
