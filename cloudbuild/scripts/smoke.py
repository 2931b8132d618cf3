"""Post-deploy smoke test that does real work: every function's health paths, then a
token, a project, an archive, a snapshot and an analysis that must reach ``completed``
through the Broker with the finding it is bound to find.

It runs in the cluster as the Job knative/jobs/smoke-test.yaml (cloudbuild/scripts/release.sh
mounts this file from a ConfigMap), with the release's auth-service image, so it needs
nothing but the standard library; an ``sm://`` admin password is resolved with
``shared.config`` as the functions resolve theirs. tests/deploy/test_smoke.py runs it
against the whole platform on real processes.

Environment: ``AUTH_TOKENS_URL``, ``PROJECTS_URL``, ``PROJECT_FILES_URL``, ``ANALYSES_URL``
(the candidate revisions' tagged URLs before traffic moves, the Services' URLs after),
``HEALTH_URLS`` (space-separated function URLs), ``ADMIN_EMAIL``, ``ADMIN_PASSWORD``,
``SMOKE_TIMEOUT_SECONDS`` (default 240), ``SMOKE_RETRIES`` (default 10: a function scaled
to zero may take a while to answer its first call). Exit 0 when everything passed, 1 otherwise.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from typing import Any

# Code the offline reviewer must flag: request data reaching a shell, the local reviewer's
# taint:command-injection (CWE-78) at line 10.
PLANTED = (
    "import subprocess\n"
    "from flask import Flask, request\n"
    "\n"
    "app = Flask(__name__)\n"
    "\n"
    "\n"
    "@app.route('/ping')\n"
    "def ping():\n"
    "    host = request.args.get('host', '')\n"
    "    return subprocess.call('ping -c 1 ' + host, shell=True)\n"
)
EXPECTED_RULE = "taint:command-injection"
HEALTH_PATHS = ("/health/startup", "/ready", "/health")
RETRIES = int(os.environ.get("SMOKE_RETRIES", "10"))


class SmokeError(Exception):
    """A check failed; the message says which and what came back."""


def call(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    expect: tuple[int, ...] = (200,),
    retries: int = 0,
) -> Any:
    """One HTTP call; retries connection errors and 502-504 (a cold start from zero)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if content_type:
        headers["Content-Type"] = content_type
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SmokeError(f"{url}: only http(s) URLs are called")
    for attempt in range(retries + 1):
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            status, text = 0, str(e)
        if status in expect:
            return json.loads(text) if text.strip() else None
        if attempt < retries and status in (0, 502, 503, 504):
            time.sleep(min(2 * (attempt + 1), 10))
            continue
        raise SmokeError(f"{method} {url}: {status} {text[:300]}")
    raise AssertionError("unreachable")


def admin_password() -> str:
    value = os.environ["ADMIN_PASSWORD"]
    if value.startswith("sm://"):
        sys.path.insert(0, os.getcwd())  # the image's working directory holds shared/
        from shared import config

        return config.resolve_reference(value)
    return value


def check_health(urls: list[str]) -> None:
    for url in urls:
        for path in HEALTH_PATHS:
            call("GET", url.rstrip("/") + path, retries=RETRIES)
        print(f"ok   health {url}", flush=True)


def review(env: dict[str, str], timeout: float) -> None:
    auth, projects = env["AUTH_TOKENS_URL"], env["PROJECTS_URL"]
    files, analyses = env["PROJECT_FILES_URL"], env["ANALYSES_URL"]
    form = urllib.parse.urlencode(
        {"grant_type": "password", "username": env["ADMIN_EMAIL"], "password": admin_password()}
    ).encode()
    token = call(
        "POST",
        f"{auth}/token",
        body=form,
        retries=RETRIES,
        content_type="application/x-www-form-urlencoded",
    )["access_token"]
    print("ok   token", flush=True)
    name = f"smoke-{uuid.uuid4().hex[:12]}"
    project = call(
        "POST",
        f"{projects}/projects",
        token=token,
        expect=(201,),
        retries=RETRIES,
        body=json.dumps({"name": name}).encode(),
        content_type="application/json",
    )["id"]
    print(f"ok   project {project}", flush=True)
    try:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("app/db.py", PLANTED)
        call(
            "POST",
            f"{files}/projects/{project}/archive",
            token=token,
            expect=(200, 201),
            body=archive.getvalue(),
            content_type="application/zip",
            retries=RETRIES,
        )
        snapshot = call(
            "POST", f"{files}/projects/{project}/snapshots", token=token, expect=(200, 201)
        )["id"]
        print(f"ok   snapshot {snapshot}", flush=True)
        analysis = call(
            "POST",
            f"{analyses}/analyses",
            token=token,
            expect=(201, 202),
            retries=RETRIES,
            body=json.dumps({"project_id": project, "snapshot_id": snapshot}).encode(),
            content_type="application/json",
        )["id"]
        deadline = time.monotonic() + timeout
        status = "queued"
        while status != "completed":
            if time.monotonic() > deadline:
                raise SmokeError(f"analysis {analysis} still {status} after {timeout:.0f}s")
            time.sleep(2)
            status = call("GET", f"{analyses}/analyses/{analysis}", token=token, retries=RETRIES)[
                "status"
            ]
            if status in ("failed", "cancelled"):
                raise SmokeError(f"analysis {analysis} ended {status}")
        print(f"ok   analysis {analysis} completed through the Broker", flush=True)
        findings = call("GET", f"{analyses}/analyses/{analysis}/findings", token=token)
        if EXPECTED_RULE not in json.dumps(findings):
            raise SmokeError(f"analysis {analysis} missed {EXPECTED_RULE}: {findings}")
        print(f"ok   findings include {EXPECTED_RULE}", flush=True)
    finally:
        try:
            call("DELETE", f"{projects}/projects/{project}", token=token, expect=(204,))
        except SmokeError as e:
            print(f"warn could not delete {project}: {e}", flush=True)


def main() -> int:
    env = dict(os.environ)
    try:
        check_health(env.get("HEALTH_URLS", "").split())
        review(env, float(env.get("SMOKE_TIMEOUT_SECONDS", "240")))
    except (SmokeError, KeyError) as e:
        print(f"FAIL {e}", file=sys.stderr, flush=True)
        return 1
    print("smoke test passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
