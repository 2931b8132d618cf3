"""Helpers shared by tests of several folders (imported; fixtures stay in tests/conftest.py)."""

from __future__ import annotations

import uuid
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
