"""Helpers of ai-orchestrator tests: the sample lines and the real versions, providers and
quotas processes (fixtures ``backends`` and ``platform``, shared with tests/e2e)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.helpers import running_functions

# Lines 10-14 of a file: the fakes' deterministic "model" flags eval( and password =.
SAMPLE_LINES = (
    "def load(data):",
    "    result = eval(data)",
    "    password = 'hunter2'",
    "    return result",
    "",
)


# --- The orchestrator against real versions, providers and quotas processes ----------------
# Those three start once per session (real functions-framework processes on the run's
# database and Redis prefix); each test registers its own uniquely named providers and
# experiment, and talks to an in-process orchestrator configured for them.

ADMIN_ID = "00000000-0000-4000-8000-00000000a0c1"
PRICE_IN, PRICE_OUT = "2.5", "10"


@dataclass
class Backends:
    env: dict[str, str]
    versions: str
    providers: str
    quotas: str
    projects: str


@pytest.fixture(scope="session", name="backends")
def _backends(session_env: dict[str, str], tmp_path_factory: Any) -> Iterator[Backends]:
    env = dict(session_env)
    logs = tmp_path_factory.mktemp("orchestrator-backends")
    targets = ("projects", "versions", "providers", "quotas")
    more = {"quotas": {"PROJECTS_URL": "{projects}"}}
    with running_functions(env, logs, *targets, more_env=more) as urls:
        yield Backends(env, urls["versions"], urls["providers"], urls["quotas"], urls["projects"])


@dataclass
class Platform:
    """One test's world: an admin, a member, their project, providers and an experiment."""

    backends: Backends
    identity: Any
    http: httpx.AsyncClient
    experiment: str
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    project_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def admin(self) -> dict[str, str]:
        return self.identity.headers(ADMIN_ID, role="admin")

    @property
    def member(self) -> dict[str, str]:
        return self.identity.headers(self.user_id, role="member")

    def orchestrator_env(self, **extra: str) -> dict[str, str]:
        return {
            "SERVICE_NAME": "ai-orchestrator",
            "PROVIDERS_URL": self.backends.providers,
            "QUOTAS_URL": self.backends.quotas,
            "VERSIONS_URL": self.backends.versions,
            "PROJECTS_URL": self.backends.projects,
            "DEFAULT_EXPERIMENT": self.experiment,
            "SERVICE_TOKEN": self.identity.token(
                sub="sa:platform", role="service", scope="internal"
            ),
            "FAKE_OPENAI_API_KEY": "sk-test-fake-openai",
            "FAKE_ANTHROPIC_API_KEY": "sk-ant-test-fake",
            **extra,
        }

    async def provider(
        self, kind: str, base_url: str | None, *, models: tuple[str, ...], priority: int = 100
    ) -> str:
        """Register a uniquely named provider; answers its name."""
        name = f"{kind}-{uuid.uuid4().hex[:8]}"
        body: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "priority": priority,
            "models": [
                {
                    "name": model,
                    "input_usd_per_mtok": PRICE_IN,
                    "output_usd_per_mtok": PRICE_OUT,
                    "context_window": 128000,
                }
                for model in models
            ],
        }
        if base_url is not None:
            body["base_url"] = base_url
            body["api_key_secret"] = f"env://FAKE_{kind.upper()}_API_KEY"
        answer = await self.http.post(
            f"{self.backends.providers}/providers", json=body, headers=self.admin
        )
        assert answer.status_code == 201, answer.text
        return name

    async def version(
        self, candidates: list[tuple[str, str]], alias: str | None = "production", **config: Any
    ) -> str:
        """A config version routing to ``candidates``; ``alias`` is moved to it. Its id."""
        routing = {"candidates": [{"provider": p, "model": m} for p, m in candidates]}
        routing.update(config.pop("routing", {}))
        answer = await self.http.post(
            f"{self.backends.versions}/experiments/{self.experiment}/versions",
            json={"config": {"routing": routing, **config}},
            headers=self.admin,
        )
        assert answer.status_code in (200, 201), answer.text
        version_id = str(answer.json()["id"])
        if alias is not None:
            moved = await self.http.put(
                f"{self.backends.versions}/experiments/{self.experiment}/aliases/{alias}",
                json={"version_id": version_id},
                headers=self.admin,
            )
            assert moved.status_code == 200, moved.text
        return version_id

    async def usage(self) -> dict[str, Any]:
        answer = await self.http.get(
            f"{self.backends.quotas}/usage",
            params={"user_id": self.user_id, "group_by": "model"},
            headers=self.admin,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest_asyncio.fixture(name="platform")
async def _platform(backends: Backends, identity: Any) -> AsyncIterator[Platform]:
    from functions.ai_orchestrator import catalog, configs

    catalog.forget()
    configs.forget()
    experiment = f"exp-{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(timeout=30) as http:
        world = Platform(backends, identity, http, experiment)
        created = await http.post(
            f"{backends.versions}/experiments", json={"name": experiment}, headers=world.admin
        )
        assert created.status_code == 201, created.text
        project = await http.post(
            f"{backends.projects}/projects", json={"name": "reviewed"}, headers=world.member
        )
        assert project.status_code == 201, project.text
        world.project_id = project.json()["id"]
        yield world
    catalog.forget()
    configs.forget()
