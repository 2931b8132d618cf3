"""configs resolves the review configuration at the versions function.

``{version_id}`` reads ``GET /versions/{id}`` (versions are immutable: cached in-process
by id); ``{alias}`` (default ``DEFAULT_ALIAS``) reads ``GET /resolve`` in
``DEFAULT_EXPERIMENT``, cached ``CONFIG_CACHE_SECONDS``. The caller's own credentials are
forwarded, so a caller sees only what it may read.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.ai_orchestrator import prompts
from functions.ai_orchestrator.findings import Severity
from functions.ai_orchestrator.settings import settings
from shared import clients
from shared.errors import Forbidden, NotFound, Unauthorized, Unavailable

_MAX_ENTRIES = 1000
_by_id: dict[str, Resolved] = {}
_by_alias: dict[tuple[str, str], tuple[float, Resolved]] = {}


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str
    model: str


class Routing(BaseModel):
    model_config = ConfigDict(frozen=True)

    candidates: list[Candidate] = Field(min_length=1)
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    temperature: float = 0.0
    max_output_tokens: int = 2048
    timeout_seconds: float = 60.0


class RemoteConfig(BaseModel):
    """The part of versions' ``ReviewerConfig`` the orchestrator uses (extra keys ignored)."""

    model_config = ConfigDict(frozen=True)

    system_prompt: str | None = None
    prompt_template: str = prompts.USER_TEMPLATE
    routing: Routing
    analyzers: list[prompts.Analyzer] = ["bandit", "ruff", "secrets", "rules", "taint"]
    severity_threshold: Severity = "info"
    token_budget: int = 4000


@dataclass(frozen=True)
class Resolved:
    """A configuration version ready to review with."""

    version_id: uuid.UUID
    review: prompts.ReviewConfig
    routing: Routing


async def resolve(
    headers: dict[str, str], *, version_id: uuid.UUID | None, alias: str | None
) -> Resolved:
    """The configuration named by ``version_id``, else by ``alias``, else the default alias.

    Raises:
        NotFound: no such version, alias or experiment.
        Unavailable: versions could not be reached, or answered an unusable config.
    """
    if version_id is not None:
        return await _by_version(headers, str(version_id))
    return await _by_alias_name(headers, alias or settings().default_alias)


def forget() -> None:
    _by_id.clear()
    _by_alias.clear()


async def _by_version(headers: dict[str, str], version_id: str) -> Resolved:
    cached = _by_id.get(version_id)
    if cached is not None:
        return cached
    version = await _get(f"/versions/{version_id}", headers, what=f"version '{version_id}'")
    resolved = _parse(version)
    _remember_version(resolved)
    return resolved


async def _by_alias_name(headers: dict[str, str], alias: str) -> Resolved:
    experiment = settings().default_experiment
    key = (experiment, alias)
    now = time.monotonic()
    cached = _by_alias.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    answer = await _get(
        "/resolve",
        headers,
        params={"experiment": experiment, "alias": alias},
        what=f"alias '{alias}' of experiment '{experiment}'",
    )
    resolved = _parse(answer.get("version") or {})
    _remember_version(resolved)
    if len(_by_alias) >= _MAX_ENTRIES:
        _by_alias.clear()
    _by_alias[key] = (now + settings().config_cache_seconds, resolved)
    return resolved


def _remember_version(resolved: Resolved) -> None:
    if len(_by_id) >= _MAX_ENTRIES:
        _by_id.clear()
    _by_id[str(resolved.version_id)] = resolved


async def _get(
    path: str, headers: dict[str, str], *, what: str, params: dict[str, str] | None = None
) -> dict[str, Any]:
    url = settings().versions_url.rstrip("/") + path
    try:
        response = await clients.get(url, headers=headers, params=params, timeout=5.0)
    except clients.transport_errors() as e:
        raise Unavailable("versions", detail="The versions function could not be reached.") from e
    if response.status_code == 200:
        body: dict[str, Any] = response.json()
        return body
    if response.status_code in (404, 422):
        raise NotFound(f"The review configuration {what} does not exist.")
    if response.status_code == 401:
        raise Unauthorized("The versions function refused the access token.")
    if response.status_code == 403:
        raise Forbidden(f"The caller may not read the review configuration {what}.")
    raise Unavailable(
        "versions", detail=f"The versions function answered {response.status_code} for {what}."
    )


def _parse(version: dict[str, Any]) -> Resolved:
    try:
        remote = RemoteConfig.model_validate(version.get("config") or {})
        review = prompts.ReviewConfig(
            system_prompt=remote.system_prompt or prompts.SYSTEM_PROMPT,
            prompt_template=remote.prompt_template,
            temperature=remote.routing.temperature,
            max_output_tokens=remote.routing.max_output_tokens,
            severity_threshold=remote.severity_threshold,
            token_budget=remote.token_budget,
            analyzers=tuple(remote.analyzers),
            reasoning_effort=remote.routing.reasoning_effort,
        )
        return Resolved(uuid.UUID(str(version["id"])), review, remote.routing)
    except (ValidationError, KeyError, ValueError) as e:
        raise Unavailable(
            "versions", detail="The versions function answered a configuration it cannot use."
        ) from e
