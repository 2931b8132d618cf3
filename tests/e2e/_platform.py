"""The whole platform for end-to-end tests: every function as a real functions-framework
process on its own port, wired like ``make run`` (``<FUNCTION>_URL``, ``K_SINK`` to the
local Broker, the platform service account), behind the gateway in a background thread."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from localdev import broker, discovery, gateway, local

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Platform:
    """Running functions, the gateway URL, and the admin's credentials."""

    url: str
    functions: dict[str, str]
    admin_email: str
    admin_password: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path | None = None

    def log_of(self, name: str) -> str:
        assert self.logs is not None
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


class GatewayThread:
    """The local gateway and Broker, served by uvicorn on its own loop in a thread."""

    def __init__(self, functions: dict[str, str], port: int) -> None:
        self.functions = functions
        self.port = port
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        local.wait_for(f"http://127.0.0.1:{self.port}/health", timeout=30)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        import uvicorn

        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=3.0)) as client:
            table = await gateway.build_table(self.functions, client)
            events = broker.LocalBroker(
                broker.load_triggers(ROOT / "knative" / "eventing"), self.functions, client
            )
            app = gateway.create_app(table, client, events)
            config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
            self._server = uvicorn.Server(config)
            await self._server.serve()


def start(env: dict[str, str], logs: Path) -> tuple[Platform, GatewayThread]:
    """Start every function target found in ``functions/`` and the gateway in front."""
    specs = [
        discovery.FunctionSpec(f.service, f.target, f.kind, local.free_port(), f.source)
        for service in discovery.discover(ROOT)
        for f in service.functions
    ]
    urls = {spec.name: f"http://127.0.0.1:{spec.port}" for spec in specs}
    gateway_port = local.free_port()
    admin_email, admin_password = "admin@e2e.example.com", secrets.token_urlsafe(18)
    wiring = {
        **env,
        **{f"{s.target.upper()}_URL": urls[s.name] for s in specs},
        "JWKS_URL": f"{urls['auth-tokens']}/.well-known/jwks.json",
        "K_SINK": f"http://127.0.0.1:{gateway_port}/_broker",
        "ADMIN_EMAIL": admin_email,
        "ADMIN_PASSWORD": admin_password,
        "PLATFORM_CLIENT_ID": "platform-e2e",
        "PLATFORM_CLIENT_SECRET": secrets.token_urlsafe(24),
    }
    processes = []
    # auth-tokens first: the others fetch its JWKS and the platform token from it
    for spec in sorted(specs, key=lambda s: s.name != "auth-tokens"):
        with (logs / f"{spec.name}.log").open("wb") as sink:
            processes.append(local.start_function(spec, wiring, log=sink))
        if spec.name == "auth-tokens":
            local.wait_for_function(urls[spec.name], spec.name, timeout=60, process=processes[0])
    platform = Platform("", urls, admin_email, admin_password, processes, logs)
    for spec, process in zip(
        sorted(specs, key=lambda s: s.name != "auth-tokens"), processes, strict=True
    ):
        try:
            local.wait_for_function(urls[spec.name], spec.name, timeout=60, process=process)
        except (TimeoutError, RuntimeError) as e:
            local.stop(processes)
            raise AssertionError(
                f"{spec.name} did not start: {e}\n{platform.log_of(spec.name)}"
            ) from None
    front = GatewayThread(urls, gateway_port)
    front.start()
    platform.url = f"http://127.0.0.1:{gateway_port}"
    return platform, front


def stop(platform: Platform, front: GatewayThread) -> None:
    front.stop()
    local.stop(platform.processes, timeout=30)


async def wait_until(check: Any, *, timeout: float = 60.0, every: float = 0.25) -> Any:
    """Poll ``await check()`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(every)
