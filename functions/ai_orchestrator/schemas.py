"""schemas holds the orchestrator's request and response bodies."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.ai_orchestrator.findings import Category, Severity, TraceStep
from functions.ai_orchestrator.providers import SkippedAnalyzer
from shared.money import Money


class ChunkIn(BaseModel):
    """One piece of code: ``content`` (its lines start at ``start_line``) or a unified ``diff``."""

    model_config = ConfigDict(extra="ignore", str_max_length=64 * 1024 * 1024)

    id: str = Field(min_length=1, max_length=200)
    path: str = Field(min_length=1, max_length=1024)
    language: str | None = Field(None, max_length=50)
    content: str | None = None
    diff: str | None = None
    start_line: int = Field(1, ge=1, le=100_000_000)
    # The whole file ``content`` is part of: analyzers that need the module (the taint
    # engine follows data across functions) read it; findings still land in ``content``.
    file_content: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ChunkIn:
        if (self.content is None) == (self.diff is None):
            raise ValueError("exactly one of content or diff is required")
        if self.file_content is not None and self.content is None:
            raise ValueError("file_content goes with content, not with a diff")
        return self


class ConfigRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    version_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _at_most_one(self) -> ConfigRef:
        if self.alias is not None and self.version_id is not None:
            raise ValueError("give alias or version_id, not both")
        return self


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID
    chunks: list[ChunkIn] = Field(min_length=1)
    config: ConfigRef | None = None
    source: Literal["ai", "static"] = "ai"


class FindingOut(BaseModel):
    chunk_id: str
    path: str
    line: int
    end_line: int
    severity: Severity
    category: Category
    rule: str
    message: str
    suggestion: str | None = None
    cwe: str | None = None
    owasp: str | None = None
    trace: list[TraceStep] | None = None


class Usage(BaseModel):
    """Summed over the chunks; provider/model ``mixed`` when chunks were answered by several."""

    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: Money
    cached: bool


class ChunkUsage(BaseModel):
    chunk_id: str
    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: Money
    cached: bool
    analyzers: list[str]
    skipped_analyzers: list[SkippedAnalyzer]


class ReviewAnswer(BaseModel):
    findings: list[FindingOut]
    usage: Usage
    config_version_id: uuid.UUID | None
    source: Literal["ai", "static"]
    chunks: list[ChunkUsage]


class ModelRow(BaseModel):
    provider: str
    model: str
    kind: str
    priority: int
    order: int
    enabled: bool
    state: Literal["closed", "open", "half_open"]
    cooling_until: str | None = None


class ModelTable(BaseModel):
    items: list[ModelRow]
    next_cursor: None = None
