"""schemas holds the request and response bodies of the ab-tests and comparisons functions."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.comparison_service.results import METRICS

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
Metric = Literal["acceptance_rate", "false_positive_rate", "cost_per_analysis", "latency_ms"]
Status = Literal["draft", "running", "stopped"]
assert set(METRICS) == set(Metric.__args__)  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantIn(_Strict):
    name: str = Field(pattern=_NAME)
    version_id: uuid.UUID
    weight: float = Field(1.0, ge=0, le=1_000_000, allow_inf_nan=False)


def _unique_names(names: list[str]) -> None:
    if len(set(names)) != len(names):
        raise ValueError("variant names must be unique")


class TestCreate(_Strict):
    """An A/B test; the first variant is the control."""

    name: str = Field(pattern=_NAME)
    experiment_id: uuid.UUID
    variants: list[VariantIn] = Field(min_length=2, max_length=10)
    primary_metric: Metric = "acceptance_rate"
    alpha: float = Field(0.05, gt=0, lt=0.5)
    min_samples: int = Field(100, ge=1, le=100_000_000)
    max_samples: int | None = Field(None, ge=1, le=1_000_000_000)
    tau: float | None = Field(None, gt=0, allow_inf_nan=False)
    equivalence_margin: float = Field(0.05, gt=0, le=1)
    auto_promote: bool = False

    @model_validator(mode="after")
    def _check(self) -> TestCreate:
        _unique_names([v.name for v in self.variants])
        if sum(v.weight for v in self.variants) <= 0:
            raise ValueError("the weights must not all be 0")
        if self.max_samples is not None and self.max_samples < self.min_samples:
            raise ValueError("max_samples must be at least min_samples")
        return self


class WeightIn(_Strict):
    name: str = Field(pattern=_NAME)
    weight: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)


class TestPatch(_Strict):
    variants: list[WeightIn] = Field(min_length=1, max_length=10)
    auto_promote: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> TestPatch:
        _unique_names([v.name for v in self.variants])
        return self


class Variant(BaseModel):
    name: str
    version_id: uuid.UUID
    weight: float


class Test(BaseModel):
    id: uuid.UUID
    name: str
    experiment_id: uuid.UUID
    variants: list[Variant]
    primary_metric: str
    alpha: float
    min_samples: int
    max_samples: int | None
    tau: float | None
    equivalence_margin: float
    auto_promote: bool
    status: Status
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    promoted_variant: str | None
    promoted_at: datetime | None


class Assignment(BaseModel):
    ab_test_id: uuid.UUID
    test_name: str
    experiment_id: uuid.UUID
    unit: str
    variant: str
    version_id: uuid.UUID


class OutcomeMetrics(_Strict):
    accepted: int = Field(0, ge=0, le=1_000_000)
    dismissed: int = Field(0, ge=0, le=1_000_000)
    false_positive: int = Field(0, ge=0, le=1_000_000)
    cost_usd: Decimal | None = Field(None, ge=0, le=1_000_000, allow_inf_nan=False)
    latency_ms: float | None = Field(None, ge=0, le=86_400_000, allow_inf_nan=False)


class OutcomeIn(_Strict):
    unit: str = Field(min_length=1, max_length=200)
    variant: str = Field(pattern=_NAME)
    metrics: OutcomeMetrics


class Promote(_Strict):
    """Promote the winner; an admin may force ``variant`` when there is none (``force``)."""

    variant: str | None = Field(None, pattern=_NAME)
    force: bool = False


class Expected(_Strict):
    path: str = Field(min_length=1, max_length=1000)
    line: int | None = Field(None, ge=1, le=10_000_000)
    category: str | None = Field(None, max_length=200)
    rule: str | None = Field(None, max_length=200)


class ComparisonCreate(_Strict):
    base_analysis_id: uuid.UUID
    head_analysis_id: uuid.UUID


class BenchmarkCreate(_Strict):
    analysis_id: uuid.UUID
    expected: list[Expected] = Field(max_length=10_000)
