"""The built images, run: what they hold, who they run as, the README's review flow through
the gateway against the twelve containers, and draining on SIGTERM.

The last test stops every container; the module runs in file order.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.containers._support import (
    Container,
    ContainerPlatform,
    listening_uids,
    restart,
    wait_for_held,
)

# The first test also waits for the twelve containers to start.
pytestmark = [pytest.mark.containers, pytest.mark.timeout(600)]

# What a runtime image must not hold: installers (the base's and any venv's), the tests,
# the development tools. Globs as image-build's `exists` takes them.
SITE_DIRS = (
    "/usr/local/lib/python3*/site-packages",
    "/usr/lib/python3/dist-packages",
    "/usr/lib/python3*/site-packages",
    "/opt/venv/lib/python3*/site-packages",
)
FORBIDDEN = [
    *(f"{d}/{name}" for d in SITE_DIRS for name in ("pip", "setuptools", "wheel")),
    *(f"{d}/{name}-*" for d in SITE_DIRS for name in ("pip", "setuptools", "wheel")),
    "/usr/local/bin/pip*",
    "/usr/bin/pip*",
    "/opt/venv/bin/pip*",
    "/usr/local/lib/python3*/ensurepip/_bundled/*.whl",
    "/usr/lib/python3*/ensurepip/_bundled/*.whl",
    "/usr/share/python-wheels/*.whl",
    "/app/tests",
    "/app/localdev",
    "/app/*/tests",
    "/app/functions/*/tests",
]
REQUIRED = ["/opt/venv/bin/python", "/opt/venv/bin/functions-framework", "/app/shared/function.py"]


def _smoke() -> Any:
    """cloudbuild/scripts/smoke.py, the release's smoke test (a script, not a package)."""
    path = Path(__file__).resolve().parents[2] / "cloudbuild" / "scripts" / "smoke.py"
    spec = importlib.util.spec_from_file_location("acr_release_smoke", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The README's demo, planted as the release's smoke test plants it: request data reaching
# a shell at line 10 (taint:command-injection).
_SMOKE = _smoke()
README_FILE: str = _SMOKE.PLANTED
EXPECTED_RULE: str = _SMOKE.EXPECTED_RULE


def test_images_hold_no_installer_no_tests_and_no_development_tools(
    platform: ContainerPlatform,
) -> None:
    for service, image in platform.images.items():
        assert platform.engine.exists(image, FORBIDDEN) == [], service
        found = platform.engine.exists(image, REQUIRED)
        assert sorted(found) == sorted(REQUIRED), f"{service}: the listing itself is broken"
        folder = service.replace("-", "_")
        assert sorted(platform.engine.exists(image, ["/app/functions/*"])) == sorted(
            [f"/app/functions/{folder}", "/app/functions/__init__.py", "/app/functions/__pycache__"]
        ), f"{service} should hold its own folder only"


def test_every_container_runs_as_uid_1000(platform: ContainerPlatform) -> None:
    for name, container in platform.containers.items():
        uids = listening_uids(container.function.port)
        assert uids == {1000}, f"{name}: the server runs as {uids}"


async def test_every_container_answers_startup_as_its_function(
    platform: ContainerPlatform,
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for name, container in platform.containers.items():
            startup = await http.get(f"{container.url}/health/startup")
            assert startup.status_code == 200, (name, startup.text, platform.logs(name))
            assert startup.json()["service"] == container.function.service
            title = (await http.get(f"{container.url}/openapi.json")).json()["info"]["title"]
            assert title == name


def _archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app/db.py", README_FILE)
    return buffer.getvalue()


async def _token(http: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    answer = await http.post(
        "/token", data={"grant_type": "password", "username": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_the_readme_review_flow_through_the_gateway(platform: ContainerPlatform) -> None:
    async with httpx.AsyncClient(base_url=platform.url, timeout=60) as http:
        # the manifests close self-registration (production): the admin registers the user
        admin = await _token(http, platform.admin_email, platform.admin_password)
        anonymous = await http.post(
            "/users", json={"email": "nobody@example.com", "password": "a long passphrase"}
        )
        assert anonymous.status_code == 403, anonymous.text
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        email = f"dev-{uuid.uuid4().hex[:8]}@example.com"
        registered = await http.post(
            "/users", json={"email": email, "password": "a long passphrase"}, headers=admin
        )
        assert registered.status_code == 201, registered.text
        user = await _token(http, email, "a long passphrase")

        project = await http.post("/projects", json={"name": "demo"}, headers=user)
        assert project.status_code == 201, project.text
        project_id = project.json()["id"]
        uploaded = await http.post(
            f"/projects/{project_id}/archive",
            content=_archive(),
            headers={**user, "Content-Type": "application/zip"},
        )
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["added"] == 1
        snapshot = await http.post(f"/projects/{project_id}/snapshots", headers=user)
        assert snapshot.status_code in (200, 201), snapshot.text

        requested = await http.post(
            "/analyses",
            json={"project_id": project_id, "snapshot_id": snapshot.json()["id"]},
            headers=user,
        )
        assert requested.status_code == 202, requested.text
        analysis_id = requested.json()["id"]
        analysis: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            analysis = (await http.get(f"/analyses/{analysis_id}", headers=user)).json()
            if analysis["status"] in ("completed", "failed", "cancelled"):
                break
            await asyncio.sleep(0.5)
        worker_log = platform.logs("analysis-worker")
        assert analysis.get("status") == "completed", (analysis, worker_log)

        findings = await http.get(f"/analyses/{analysis_id}/findings", headers=user)
        assert findings.status_code == 200, findings.text
        located = {(f["path"], f["line"], f["rule"]) for f in findings.json()["items"]}
        assert ("app/db.py", 10, EXPECTED_RULE) in located, located

        sarif = await http.get(f"/analyses/{analysis_id}/sarif", headers=user)
        assert sarif.status_code == 200, sarif.text
        document = json.loads(sarif.text)
        assert document["version"] == "2.1.0"
        results = document["runs"][0]["results"]
        assert any(r["ruleId"] == EXPECTED_RULE for r in results), results


async def test_sigterm_lets_an_in_flight_slow_request_finish_and_exits_0(
    platform: ContainerPlatform,
) -> None:
    """Each container, in turn, gets a request that waits on PostgreSQL (``/ready`` runs
    ``select 1`` through the stalled proxy), then SIGTERM; the query is let through only
    once the container reports draining. The request must still get its whole answer,
    built after SIGTERM, and the container's main process must exit 0.

    ``/ready`` gives up on a check after two seconds; on a machine so loaded that SIGTERM
    takes longer than that to arrive, the answer is built before it and proves nothing, so
    the container (which must still exit 0) is started again and tried again."""
    for container in platform.containers.values():
        name = container.function.name
        tries = 0
        while True:
            tries += 1
            body, ending, draining_after, took = await _slow_request_across_sigterm(
                platform, container
            )
            # a str message (pytest shortens a tuple's repr): the log's end, where a stuck
            # shutdown says what it waited for
            assert ending == "exited with status 0", (
                f"{name}: {ending}\n{platform.logs(name)[-6000:]}"
            )
            if body["status"] == "draining" or draining_after < 2.0 or tries == 3:
                break
            restart(platform.engine, container)  # SIGTERM came after /ready gave up
        assert body["status"] == "draining", (name, body, draining_after, tries)
        database = next(c for c in body["components"] if c["name"] == "database")
        assert database["status"] == "healthy", (name, body)
        assert took >= draining_after, (name, "answered before SIGTERM reached it")


async def _slow_request_across_sigterm(
    platform: ContainerPlatform, container: Container
) -> tuple[dict[str, Any], str, float, float]:
    """The /ready answer, how the container ended, when it was seen draining and when the
    answer came (seconds after the request was sent)."""
    async with httpx.AsyncClient(timeout=60) as http:
        platform.proxy.stall()
        held_before = platform.proxy.held
        started = time.monotonic()
        slow = asyncio.create_task(http.get(f"{container.url}/ready"))
        try:
            await asyncio.to_thread(wait_for_held, platform.proxy, held_before + 1)
            stop = asyncio.create_task(asyncio.to_thread(_stop, platform, container))
            await _draining(container.url)
            draining_after = time.monotonic() - started
        finally:
            platform.proxy.release()
        answer = await slow
        took = time.monotonic() - started
        ending = await stop
    return answer.json(), ending, draining_after, took


def _stop(platform: ContainerPlatform, container: Any) -> str:
    container.stopped = platform.engine.stop(container.name)
    return str(container.stopped)


async def _draining(url: str) -> None:
    """Poll /health on fresh connections until the function reports draining (SIGTERM seen)."""
    for _ in range(400):
        try:
            async with httpx.AsyncClient(timeout=2) as fresh:
                if (await fresh.get(f"{url}/health")).status_code == 503:
                    return
        except httpx.TransportError:
            return  # stopped listening: SIGTERM arrived
        await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never reported draining")
