"""Helpers of the container suite: the running containers and waits on them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from localdev import discovery, images, local
from tests.containers._stall import StallingProxy


@dataclass
class Container:
    function: discovery.FunctionSpec
    image: str
    name: str
    url: str
    env: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None


@dataclass
class ContainerPlatform:
    engine: images.Engine
    url: str
    containers: dict[str, Container]
    admin_email: str
    admin_password: str
    proxy: StallingProxy
    images: dict[str, str] = field(default_factory=dict)

    def logs(self, name: str) -> str:
        return self.engine.log(self.containers[name].name)[-4000:]


def restart(engine: images.Engine, container: Container) -> None:
    """Start a stopped container again, with the same environment."""
    engine.run(container.image, container.name, container.env)
    container.stopped = None
    _wait(engine, container)


def _wait(engine: images.Engine, container: Container) -> None:
    try:
        local.wait_for_function(container.url, container.function.name, timeout=120)
    except (TimeoutError, RuntimeError) as e:
        raise AssertionError(
            f"{container.name} did not start: {e}\n{engine.log(container.name)[-3000:]}"
        ) from None


def listening_uids(port: int) -> set[int]:
    """UIDs of the processes that hold the socket listening on ``port`` (host network)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    uids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {str(fd.readlink()) for fd in (proc / "fd").iterdir()}
            status = (proc / "status").read_text()
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            uids.add(int(next(x for x in status.splitlines() if x.startswith("Uid:")).split()[1]))
    return uids


def wait_for_held(proxy: StallingProxy, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while proxy.held < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {proxy.held} of {count} queries reached the proxy")
        time.sleep(0.02)
