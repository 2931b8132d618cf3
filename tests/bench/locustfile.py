"""locustfile: what users of the platform do, through its gateway (``make load``, ``make soak``).

Each simulated user is its own account (registration is open in development), as real
users are: it registers, logs in with the password grant and creates one project, then
keeps doing, at random with the weights below:

* a review (weight 2): upload a small archive (three Python modules whose code changes on
  every upload, so every review is real work), freeze a snapshot, start an analysis, poll
  it to completion, list its findings (the first review must find the command injection;
  later ones may not, once a ``false_positive`` verdict suppressed it), fetch its SARIF
  and give feedback on one finding;
* reads (weight 3): its profile, its projects, its project's analyses;
* a chat completion (weight 2) through ``/v1/chat/completions`` to the model named by
  ``LOAD_CHAT_MODEL`` (``<provider>/<model>``: the fake OpenAI provider that
  ``tests/bench/load.py`` registers); unset, this task is not run.

Users respect the per-user limits as people do: one analysis in flight at a time (the limit
is 5), one project each (the limit is 100), logins only with the right password. An
expired access token (15 min, longer than a soak's think time) is a 401 that logs in again
and retries once; the 401 itself is not counted as a failure. Every answer is checked for
its content, not only its status: a wrong body is a failure.
"""

from __future__ import annotations

import io
import os
import secrets
import time
import uuid
import zipfile
from typing import Any

from locust import HttpUser, between, task
from locust.exception import StopUser

POLL_SECONDS = float(os.environ.get("LOAD_POLL_SECONDS", "0.5"))
ANALYSIS_DEADLINE_SECONDS = float(os.environ.get("LOAD_ANALYSIS_DEADLINE_SECONDS", "300"))
CHAT_MODEL = os.environ.get("LOAD_CHAT_MODEL", "")
VERDICTS = ("accepted", "dismissed", "false_positive")

VIEWS = '''"""Views of revision {n}."""
import subprocess

from flask import request


def run():
    cmd = request.args["cmd"]
    return subprocess.call(cmd, shell=True)


def total_{n}(values):
    return sum(v * {n} for v in values)
'''
MODELS = '''"""Models of revision {n}."""
import sqlite3


def find(db: sqlite3.Connection, name: str):
    return db.execute("select * from users where name = ?", (name,)).fetchall()


LIMIT = {n}
'''
UTIL = '''"""Helpers of revision {n}."""


def slug(text: str) -> str:
    return "-".join(text.lower().split())[:{n}]
'''


def archive(revision: int) -> bytes:
    """A zip of three small modules; ``revision`` changes their code (and their hashes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("app/views.py", VIEWS.format(n=revision))
        zipped.writestr("app/models.py", MODELS.format(n=revision))
        zipped.writestr("app/util.py", UTIL.format(n=revision + 8))
    return buffer.getvalue()


class PlatformUser(HttpUser):
    host = "http://127.0.0.1:8000"
    wait_time = between(
        float(os.environ.get("LOAD_WAIT_MIN", "0.5")), float(os.environ.get("LOAD_WAIT_MAX", "2"))
    )

    def on_start(self) -> None:
        self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.password = secrets.token_urlsafe(18)
        self.headers: dict[str, str] = {}
        self.revision = 0
        body = {"email": self.email, "password": self.password, "name": "Load Test"}
        with self.client.post("/users", json=body, catch_response=True) as response:
            if response.status_code != 202 or response.json().get("email") != self.email:
                response.failure(f"register: {response.status_code} {response.text[:200]}")
                raise StopUser()  # without an account every later request would fail too
        if not self.login():
            raise StopUser()
        project = self.call(
            "POST", "/projects", expect=201, json={"name": f"load {uuid.uuid4().hex[:8]}"}
        )
        if project is None:
            raise StopUser()
        self.project_id = str(project["id"])

    def login(self) -> bool:
        form = {"grant_type": "password", "username": self.email, "password": self.password}
        with self.client.post("/token", data=form, catch_response=True) as response:
            token = response.json().get("access_token") if response.status_code == 200 else None
            if not token:
                response.failure(f"login: {response.status_code} {response.text[:200]}")
                return False
            self.headers = {"Authorization": f"Bearer {token}"}
            return True

    def call(
        self, method: str, path: str, *, expect: int = 200, name: str | None = None, **kwargs: Any
    ) -> Any:
        """One request as the user; the JSON answer (``{}`` for non-JSON) or None on failure.

        A 401 (the access token expired) logs in again and retries once.
        """
        extra = kwargs.pop("headers", {})
        for attempt in (1, 2):
            headers = {**self.headers, **extra}
            with self.client.request(
                method, path, name=name or path, headers=headers, catch_response=True, **kwargs
            ) as response:
                if response.status_code == 401 and attempt == 1:
                    response.success()
                    if not self.login():
                        return None
                    continue
                if response.status_code != expect:
                    response.failure(f"{response.status_code} {response.text[:300]}")
                    return None
                if "json" not in response.headers.get("content-type", ""):
                    return {"_raw": response.content}
                return response.json()
        return None

    @task(2)
    def review(self) -> None:
        """Archive, snapshot, analysis polled to completion, findings, SARIF, feedback."""
        self.revision += 1
        project = f"/projects/{self.project_id}"
        uploaded = self.call(
            "POST",
            f"{project}/archive",
            name="/projects/[id]/archive",
            data=archive(self.revision),
            headers={"Content-Type": "application/zip"},
        )
        if uploaded is None:
            return
        snapshot = self.call(
            "POST", f"{project}/snapshots", expect=201, name="/projects/[id]/snapshots"
        )
        if snapshot is None:
            return
        job = {"project_id": self.project_id, "snapshot_id": snapshot["id"]}
        started = self.call("POST", "/analyses", expect=202, json=job)
        if started is None:
            return
        analysis = f"/analyses/{started['id']}"
        deadline = time.monotonic() + ANALYSIS_DEADLINE_SECONDS
        while True:
            state = self.call("GET", analysis, name="/analyses/[id]")
            if state is None:
                return
            if state["status"] in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                self._fail("analysis", f"{analysis} still {state['status']} after the deadline")
                return
            time.sleep(POLL_SECONDS)
        if state["status"] != "completed":
            self._fail("analysis", f"{analysis} ended {state['status']}: {state.get('error')}")
            return
        findings = self.call("GET", f"{analysis}/findings", name="/analyses/[id]/findings")
        if findings is None:
            return
        items = findings["items"]
        rules = {item["rule"] for item in items}
        if self.revision == 1 and "taint:command-injection" not in rules:
            # later reviews may rightly lack it: a false_positive verdict suppresses it
            self._fail("findings", f"{analysis}: no command injection among {sorted(rules)}")
            return
        sarif = self.call("GET", f"{analysis}/sarif", name="/analyses/[id]/sarif")
        if sarif is None:
            return
        if sarif.get("version") != "2.1.0" or len(sarif.get("runs") or []) != 1:
            self._fail("sarif", f"{analysis}: not a SARIF 2.1.0 log of one run")
            return
        if not items:
            return
        finding = items[self.revision % len(items)]
        verdict = {"verdict": VERDICTS[self.revision % len(VERDICTS)], "comment": "load test"}
        feedback = f"/findings/{finding['id']}/feedback"
        self.call("POST", feedback, name="/findings/[id]/feedback", json=verdict)

    @task(3)
    def reads(self) -> None:
        me = self.call("GET", "/users/me")
        if me is not None and me.get("email") != self.email:
            self._fail("/users/me", f"answered for {me.get('email')}")
        projects = self.call("GET", "/projects")
        if projects is not None and self.project_id not in str(projects):
            self._fail("/projects", "the user's project is not listed")
        self.call("GET", f"/analyses?project_id={self.project_id}", name="/analyses?project_id=")

    @task(2)
    def chat(self) -> None:
        if not CHAT_MODEL:
            return
        word = secrets.token_hex(4)
        body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": f"ping {word}"}]}
        answer = self.call("POST", "/v1/chat/completions", json=body)
        if answer is not None and word not in answer["choices"][0]["message"]["content"]:
            self._fail("/v1/chat/completions", f"the answer does not echo the prompt: {answer}")

    def _fail(self, name: str, message: str) -> None:
        """Report a failure the status code did not show (a wrong body, a failed job)."""
        self.environment.events.request.fire(
            request_type="CHECK",
            name=name,
            response_time=0,
            response_length=0,
            exception=AssertionError(message),
            context={},
        )
