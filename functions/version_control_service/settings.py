"""settings declares version-control-service's configuration."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared import config


class VersionsConfig(config.BaseConfig):
    database_url: SecretStr = Field(description="PostgreSQL connection URL.")
    redis_url: SecretStr = Field(description="Redis connection URL (the /resolve cache).")
    default_experiment: str = Field(
        "default",
        description="Experiment created at start-up whose production alias is the default.",
    )
    resolve_cache_seconds: int = Field(
        300, ge=0, description="How long /resolve answers stay cached (moves invalidate at once)."
    )


settings = config.loader(VersionsConfig)
