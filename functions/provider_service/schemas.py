"""schemas holds provider-service's request and response bodies.

Money is exact: prices and costs are ``Decimal`` (PostgreSQL ``NUMERIC``), accepted as
JSON strings or numbers and always answered as JSON strings (``"0.008755"``), so no
client ever parses a binary float.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from shared import egress
from shared.money import Money, plain

Kind = Literal["openai", "anthropic", "local"]
Scope = Literal["global", "project", "user"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$")
_ENV_REF = re.compile(r"^env://[A-Z][A-Z0-9_]{0,119}_API_KEY$")
_SM_REF = re.compile(r"^(sm://)?([A-Za-z0-9_-]{1,255}|projects/[^\s]{1,400})$")
MAX_PRICE = Decimal("1000000")


Price = Annotated[
    Decimal,
    Field(ge=0, le=MAX_PRICE, max_digits=20, decimal_places=10),
    PlainSerializer(plain, return_type=str, when_used="json"),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=2048)


def check_key_reference(value: str | None) -> str | None:
    """``env://NAME_API_KEY`` or a Secret Manager name (``sm://name``, ``name``, full
    resource name); environment references are limited to ``*_API_KEY`` names
    (``shared.credentials``)."""
    if (
        value is None
        or _ENV_REF.match(value)
        or (not value.startswith("env://") and _SM_REF.match(value))
    ):
        return value
    raise ValueError("must be env://NAME_API_KEY or a Secret Manager secret name (sm://NAME)")


def check_provider_name(value: str | None) -> str | None:
    if value is not None and not _NAME.match(value):
        raise ValueError(f"provider name must match {_NAME.pattern}")
    return value


def check_base_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
        raise ValueError("must be an absolute http(s) URL without query or fragment")
    from functions.provider_service.settings import settings

    egress.check_url(value, allow_loopback=settings().is_development)
    return value.rstrip("/")


class ModelSpec(_Body):
    name: str = Field(max_length=200)
    input_usd_per_mtok: Price
    output_usd_per_mtok: Price
    context_window: int = Field(gt=0, le=100_000_000)
    rpm: int | None = Field(None, gt=0)
    tpm: int | None = Field(None, gt=0)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _MODEL.match(value):
            raise ValueError(f"model name must match {_MODEL.pattern}")
        return value


def _unique_models(models: list[ModelSpec]) -> list[ModelSpec]:
    names = [m.name for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"model names must be unique; repeated: {', '.join(duplicates)}")
    return models


class ProviderCreate(_Body):
    name: str = Field(max_length=100)
    kind: Kind
    base_url: str | None = None
    api_key_secret: str | None = Field(None, max_length=512)
    models: list[ModelSpec] = Field(min_length=1, max_length=200)
    priority: int = Field(100, ge=0, le=10_000)
    enabled: bool = True

    _name = field_validator("name")(check_provider_name)
    _base_url = field_validator("base_url")(check_base_url)
    _key = field_validator("api_key_secret")(check_key_reference)
    _models = field_validator("models")(_unique_models)


class ProviderUpdate(_Body):
    """Partial update; ``api_key_secret: null`` clears the key, ``models`` replaces the list."""

    name: str | None = Field(None, max_length=100)
    base_url: str | None = None
    api_key_secret: str | None = Field(None, max_length=512)
    models: list[ModelSpec] | None = Field(None, min_length=1, max_length=200)
    priority: int | None = Field(None, ge=0, le=10_000)
    enabled: bool | None = None

    _name = field_validator("name")(check_provider_name)
    _base_url = field_validator("base_url")(check_base_url)
    _key = field_validator("api_key_secret")(check_key_reference)

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[ModelSpec] | None) -> list[ModelSpec] | None:
        return None if value is None else _unique_models(value)


class ModelOut(BaseModel):
    name: str
    input_usd_per_mtok: Money
    output_usd_per_mtok: Money
    context_window: int
    rpm: int | None
    tpm: int | None


class ProviderOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: Kind
    base_url: str | None
    api_key_set: bool
    models: list[ModelOut]
    priority: int
    enabled: bool
    created_at: datetime
    updated_at: datetime


class ProviderPage(BaseModel):
    items: list[ProviderOut]
    next_cursor: str | None


class ProviderHealth(BaseModel):
    status: Literal["healthy", "unhealthy", "disabled"]
    latency_ms: float
    detail: str | None = None


class QuotaRuleIn(_Body):
    requests_per_minute: int | None = Field(None, ge=0, le=10_000_000)
    tokens_per_day: int | None = Field(None, ge=0, le=10**15)
    cost_usd_per_month: Price | None = None
    provider: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=200)


class Consumption(BaseModel):
    limit: str
    maximum: int | Money
    used: int | Money
    window: Literal["minute", "day", "month"]
    resets_at: datetime


class QuotaRuleOut(BaseModel):
    id: uuid.UUID
    scope: Scope
    scope_id: str
    provider: str | None
    model: str | None
    requests_per_minute: int | None
    tokens_per_day: int | None
    cost_usd_per_month: Money | None
    updated_at: datetime
    consumption: list[Consumption] = Field(default_factory=list)


class QuotaRules(BaseModel):
    scope: Scope
    scope_id: str
    rules: list[QuotaRuleOut]


class ReserveIn(_Body):
    user_id: uuid.UUID
    project_id: uuid.UUID
    provider: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=200)
    estimated_tokens: int = Field(ge=0, le=100_000_000)


class Reservation(BaseModel):
    reservation_id: str
    expires_at: datetime


class CommitIn(_Body):
    reservation_id: str = Field(min_length=1, max_length=1024)
    input_tokens: int = Field(ge=0, le=100_000_000)
    output_tokens: int = Field(ge=0, le=100_000_000)


class Committed(BaseModel):
    reservation_id: str
    cost_usd: Money
    input_tokens: int
    output_tokens: int
    replayed: bool


class ReleaseIn(_Body):
    reservation_id: str = Field(min_length=1, max_length=1024)


class Released(BaseModel):
    reservation_id: str
    released: bool


class UsageRow(BaseModel):
    provider: str | None = None
    model: str | None = None
    day: str | None = None
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: Money


class UsageReport(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    group_by: Literal["model", "day"] | None
    user_id: uuid.UUID | None
    project_id: uuid.UUID | None
    from_: datetime | None = Field(serialization_alias="from")
    to: datetime | None
    totals: UsageRow
    items: list[UsageRow]
    next_cursor: None = None
