"""settings declares comparison-service's configuration."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared import config


class ComparisonConfig(config.BaseConfig):
    database_url: SecretStr = Field(description="PostgreSQL connection URL.")
    redis_url: SecretStr = Field(description="Redis connection URL (assignment cache).")
    versions_url: str = Field(
        "http://127.0.0.1:8051",
        description="Base URL of the versions function (variant checks, promotion).",
    )
    analyses_url: str = Field(
        "http://127.0.0.1:8031",
        description="Base URL of the analyses function (findings of compared analyses).",
    )
    benchmark_line_tolerance: int = Field(
        3, ge=0, le=100, description="Lines an expected finding may be off and still match."
    )
    assignment_cache_seconds: int = Field(
        86_400, ge=0, description="How long an assignment stays cached in Redis (0: never)."
    )


settings = config.loader(ComparisonConfig)
