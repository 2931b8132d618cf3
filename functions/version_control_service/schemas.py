"""schemas holds the reviewer configuration schema and the bodies of the versions function."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["critical", "high", "medium", "low", "info"]
# "taint": data-flow security analysis of Python; "style": pure style and low-signal
# checks (unused imports, import layout, bare except, asserts), off unless named here.
Analyzer = Literal["bandit", "ruff", "secrets", "rules", "taint", "style"]
ANALYZERS: tuple[Analyzer, ...] = ("bandit", "ruff", "secrets", "rules", "taint")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"

DEFAULT_PROMPT = (
    "Review this {language} code.\nPath: {path}\nLines: {start_line}-{end_line}\n\n{code}\n"
)
PLACEHOLDERS = frozenset({"code", "path", "language", "start_line", "end_line"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _all_analyzers() -> list[Analyzer]:
    return list(ANALYZERS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Candidate(_Strict):
    provider: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=200)


class RoutingPolicy(_Strict):
    """Ordered provider/model candidates: the first healthy one with quota answers."""

    candidates: list[Candidate] = Field(min_length=1, max_length=10)
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_output_tokens: int = Field(2048, ge=64, le=32768)
    timeout_seconds: float = Field(60.0, gt=0, le=300)


class ReviewerConfig(_Strict):
    """Everything that decides how a review is made; versions of it are immutable."""

    system_prompt: str | None = Field(
        None, max_length=20_000, description="None: the orchestrator's built-in reviewer prompt."
    )
    prompt_template: str = Field(DEFAULT_PROMPT, min_length=10, max_length=20_000)
    routing: RoutingPolicy = RoutingPolicy(
        candidates=[Candidate(provider="local", model="local-analyzers")]
    )
    analyzers: list[Analyzer] = Field(default_factory=_all_analyzers)
    severity_threshold: Severity = "info"
    token_budget: int = Field(4000, ge=256, le=200_000)

    @field_validator("prompt_template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        if "{code}" not in value:
            raise ValueError("must contain the {code} placeholder")
        unknown = sorted(set(_PLACEHOLDER.findall(value)) - PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {unknown}; allowed: {sorted(PLACEHOLDERS)}")
        return value

    @field_validator("analyzers")
    @classmethod
    def _unique(cls, value: list[Analyzer]) -> list[Analyzer]:
        return sorted(set(value))


def canonical_json(config: ReviewerConfig) -> str:
    """Sorted keys, no whitespace, UTF-8: equal configurations give equal text."""
    return json.dumps(
        config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def config_sha256(config: ReviewerConfig) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


class ExperimentCreate(_Strict):
    name: str = Field(pattern=_NAME)
    description: str = Field("", max_length=2000)


class Experiment(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    created_by: str | None
    created_at: datetime


class VersionCreate(_Strict):
    config: ReviewerConfig
    message: str = Field("", max_length=2000)
    parent_id: uuid.UUID | None = None


class Version(BaseModel):
    id: uuid.UUID
    experiment_id: uuid.UUID
    number: int
    sha256: str
    parent_id: uuid.UUID | None
    message: str
    created_by: str | None
    created_at: datetime
    config: dict[str, Any]


class AliasMove(_Strict):
    version_id: uuid.UUID
    reason: str = Field("", max_length=2000)


class Alias(BaseModel):
    experiment_id: uuid.UUID
    name: str
    version_id: uuid.UUID
    updated_by: str | None
    updated_at: datetime


class AliasChange(BaseModel):
    alias: str
    from_version_id: uuid.UUID | None
    to_version_id: uuid.UUID
    changed_by: str | None
    reason: str
    rollback: bool
    changed_at: datetime


class Resolved(BaseModel):
    experiment_id: uuid.UUID
    experiment: str
    alias: str | None
    version: Version
