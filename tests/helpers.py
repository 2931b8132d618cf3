"""Helpers shared by tests of several folders (imported; fixtures stay in tests/conftest.py)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx


class Identity:
    """A stand-in for auth-tokens at the outermost boundary: an EC key whose JWKS is served
    over real HTTP, minting access tokens exactly as auth-tokens does (same claims)."""

    def __init__(self) -> None:
        from joserfc.jwk import ECKey

        self.key = ECKey.generate_key("P-256")
        self.key.ensure_kid()
        self.jwks = {"keys": [{**self.key.as_dict(private=False), "alg": "ES256", "use": "sig"}]}
        self.jwks_url = ""

    def token(
        self,
        sub: str | None = None,
        *,
        role: str = "member",
        scope: str = "user",
        ttl: int = 900,
        **claims: Any,
    ) -> str:
        import time

        from joserfc import jwt

        now = int(time.time())
        payload = {
            "iss": "https://auth.ai-codereview.dev",
            "aud": "ai-codereview",
            "sub": sub or str(uuid.uuid4()),
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "role": role,
            "scope": scope,
            **claims,
        }
        header = {"alg": "ES256", "kid": self.key.kid, "typ": "at+jwt"}
        return jwt.encode(header, payload, self.key, algorithms=["ES256"])

    def headers(self, sub: str | None = None, **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, **options)}"}


async def new_project(projects_url: str, owner: dict[str, str]) -> str:
    """A project created by ``owner`` (headers) in the real projects process."""
    async with httpx.AsyncClient(base_url=projects_url, headers=owner, timeout=10) as client:
        created = await client.post("/projects", json={"name": f"p-{uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@contextlib.contextmanager
def running_functions(
    env: dict[str, str],
    logs: Path,
    *targets: str,
    more_env: dict[str, dict[str, str]] | None = None,
) -> Iterator[dict[str, str]]:
    """Real ``functions-framework`` processes of ``targets``, started together on free
    ports (logs in ``logs/<target>.log``), each waited for by name; yields target -> base
    URL and stops them all after. ``more_env`` adds variables per target; a value written
    ``{projects}`` is replaced by the URL of that target started before it.

    The one way fixtures start the functions a function under test calls (projects for
    access checks, versions for promotions, ...), as in a cluster.
    """
    from localdev import discovery, local

    specs = {f.target: f for s in discovery.discover() for f in s.functions}
    processes: list[Any] = []
    urls: dict[str, str] = {}
    try:
        for target in targets:
            base = specs[target]
            spec = discovery.FunctionSpec(
                base.service, target, base.kind, local.free_port(), base.source
            )
            own = {k: v.format(**urls) for k, v in (more_env or {}).get(target, {}).items()}
            with (logs / f"{target}.log").open("wb") as log:
                processes.append(local.start_function(spec, {**env, **own}, log=log))
            urls[target] = f"http://127.0.0.1:{spec.port}"
        for target, process in zip(targets, processes, strict=True):
            local.wait_for_function(urls[target], specs[target].name, timeout=30, process=process)
        yield urls
    finally:
        local.stop(processes, timeout=20)


class Accounts:
    """Real auth-tokens, auth-users and projects processes for a session (``accounts``):
    who may be a project member is auth-users' answer, so tests add real users.

    ``env`` is what another function needs to ask auth-users as the platform service
    account (project-service's ``put_member``); the ``projects`` process here verifies
    tokens of the real auth-tokens (``login``), for the flows auth-users starts.
    """

    def __init__(self, urls: dict[str, str], admin: tuple[str, str], client: tuple[str, str]):
        self.urls = urls
        self._admin = admin
        self.env = {
            "AUTH_USERS_URL": urls["auth_users"],
            "AUTH_TOKENS_URL": urls["auth_tokens"],
            "PLATFORM_CLIENT_ID": client[0],
            "PLATFORM_CLIENT_SECRET": client[1],
        }
        self._admin_headers: dict[str, str] = {}
        self._admin_until = 0.0

    @property
    def admin_credentials(self) -> tuple[str, str]:
        return self._admin

    def admin_headers(self) -> dict[str, str]:
        """Bearer headers of the session's bootstrap admin (a real auth-tokens token)."""
        import time

        if not self._admin_headers or time.monotonic() > self._admin_until:
            self._admin_headers = self.login(*self._admin)
            self._admin_until = time.monotonic() + 600  # well within the token's 15 minutes
        return self._admin_headers

    def login(self, email: str, password: str) -> dict[str, str]:
        answer = httpx.post(
            f"{self.urls['auth_tokens']}/token",
            data={"grant_type": "password", "username": email, "password": password},
            timeout=20,
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def register(self) -> tuple[str, str, str]:
        """A new member registered by the admin: ``(id, email, password)``."""
        email = f"member-{uuid.uuid4().hex[:12]}@example.com"
        password = f"a sturdy passphrase {uuid.uuid4().hex[:6]}"
        for _ in range(2):
            answer = httpx.post(
                f"{self.urls['auth_users']}/users",
                json={"email": email, "password": password},
                headers=self.admin_headers(),
                timeout=20,
            )
            if answer.status_code != 401:
                break
            # the session's admin is everyone's: a test that changed admins (disabled and
            # restored them, changed a role) revoked the token kept here; sign in again
            self._admin_headers = {}
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"]), email, password

    def user_id(self) -> str:
        """The id of a new real member (for tests whose tokens come from elsewhere)."""
        return self.register()[0]


Answer = tuple[int, bytes] | tuple[int, bytes, Mapping[str, str]]
"""A stub's reply: status, body and (optionally) headers; JSON unless a Content-Type is given."""


@contextlib.contextmanager
def http_stub(answer: Callable[[str, str, Mapping[str, str]], Answer]) -> Iterator[str]:
    """A real HTTP server on ``127.0.0.1`` answering every request with
    ``answer(method, path, headers)``; yields its ``host:port`` (a stand-in at the outermost
    boundary: a metadata server, a JWKS, a dependency that fails on purpose)."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            status, body, *more = answer(self.command, self.path, self.headers)
            headers = {"Content-Type": "application/json", **(more[0] if more else {})}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _reply  # noqa: N815 - http.server's naming

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
