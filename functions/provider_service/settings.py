"""settings declares provider-service's configuration (the shared variables plus its own)."""

from __future__ import annotations

import secrets
from functools import cache

from pydantic import Field, SecretStr, model_validator

from shared import access, config


@cache
def _process_key() -> bytes:
    """A development key of this process alone, when none is configured: never a constant
    in source (a published key would let anyone mint reservations). ``make run`` passes a
    key generated once per checkout instead, so its reservations survive a restart."""
    return secrets.token_bytes(32)


class ProviderConfig(access.AccessConfig):
    database_url: SecretStr = Field(description="PostgreSQL connection URL.")
    redis_url: SecretStr = Field(description="Redis connection URL.")
    provider_probe_timeout_seconds: float = Field(
        5.0, gt=0, le=30, description="Bound of one GET /providers/{id}/health probe."
    )
    provider_probe_min_interval_seconds: int = Field(
        10, gt=0, description="One live health probe per provider per this many seconds."
    )
    reservation_ttl_seconds: int = Field(
        120, gt=0, le=3600, description="A reservation not committed by then gives itself back."
    )
    quota_rules_cache_seconds: float = Field(
        5.0, ge=0, description="How long a process reuses quota rules and prices read from PG."
    )
    quota_signing_key: SecretStr | None = Field(
        None,
        description="HMAC key signing reservation ids (shared by every quotas instance); "
        "unset in development = a random key per process (make run: one per checkout).",
    )

    @model_validator(mode="after")
    def _signing_key_outside_development(self) -> ProviderConfig:
        if self.quota_signing_key is None and not self.is_development:
            raise ValueError("QUOTA_SIGNING_KEY is required outside development")
        return self

    def signing_key(self) -> bytes:
        key = self.quota_signing_key
        return key.get_secret_value().encode() if key is not None else _process_key()


settings = config.loader(ProviderConfig)
