"""schemas holds the request and response bodies of the analyses function."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Verdict = Literal["accepted", "dismissed", "false_positive"]
Status = Literal["queued", "running", "completed", "failed", "cancelled"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfigRef(_Strict):
    """Which reviewer configuration to use: an alias of the default experiment, or a version."""

    alias: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    version_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _at_most_one(self) -> ConfigRef:
        if self.alias is not None and self.version_id is not None:
            raise ValueError("give either alias or version_id, not both")
        return self


class AnalysisCreate(_Strict):
    project_id: uuid.UUID
    snapshot_id: uuid.UUID | None = None
    diff: str | None = Field(None, min_length=1)
    config: ConfigRef | None = None

    @model_validator(mode="after")
    def _one_input(self) -> AnalysisCreate:
        if (self.snapshot_id is None) == (self.diff is None):
            raise ValueError("give exactly one of snapshot_id or diff")
        return self


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int
    cost_usd: str


class Analysis(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    kind: Literal["snapshot", "diff"]
    snapshot_id: uuid.UUID | None
    status: Status
    progress: float
    stage: str
    summary: dict[str, Any]
    usage: Usage
    coverage: dict[str, Any] | None
    error: str | None
    config: dict[str, Any]
    config_version_id: uuid.UUID | None
    ab_test_id: uuid.UUID | None
    variant: str | None
    requested_by: uuid.UUID
    attempt: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class FeedbackIn(_Strict):
    verdict: Verdict
    comment: str | None = Field(None, max_length=4000)


class FeedbackOut(BaseModel):
    finding_id: uuid.UUID
    verdict: Verdict
    previous_verdict: Verdict | None
    comment: str | None
    suppressed_in_later_analyses: bool
    updated_at: datetime
