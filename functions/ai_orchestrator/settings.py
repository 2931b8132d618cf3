"""settings declares ai-orchestrator's configuration (the shared variables plus its own)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared import access, config

KIB = 1024


class OrchestratorConfig(access.AccessConfig):
    database_url: SecretStr = Field(description="PostgreSQL connection URL.")
    redis_url: SecretStr = Field(description="Redis connection URL.")
    providers_url: str = Field(
        "http://127.0.0.1:8071", description="The providers function (catalog, key references)."
    )
    quotas_url: str = Field("http://127.0.0.1:8072", description="The quotas function.")
    versions_url: str = Field("http://127.0.0.1:8051", description="The versions function.")
    default_experiment: str = Field("default", description="Experiment of alias lookups.")
    default_alias: str = Field("production", description="Alias used when none is given.")
    catalog_cache_seconds: float = Field(10.0, ge=0, description="Provider catalog reuse.")
    config_cache_seconds: float = Field(5.0, ge=0, description="Alias -> version reuse.")
    response_cache_seconds: int = Field(
        7 * 24 * 3600, ge=1, description="Lifetime of a cached review answer in Redis."
    )
    breaker_failures: int = Field(5, ge=1, description="Failures that open a provider's circuit.")
    breaker_window_seconds: float = Field(60.0, gt=0, description="Window counting failures.")
    breaker_cooldown_seconds: float = Field(
        30.0, gt=0, description="Open time before one half-open trial call is let through."
    )
    max_cooldown_seconds: float = Field(
        60.0, gt=0, description="Cap on a provider's Retry-After honoured as a cooldown."
    )
    review_concurrency: int = Field(4, ge=1, le=64, description="Chunks reviewed in parallel.")
    local_analyzer_processes: int = Field(
        1,
        ge=0,
        le=8,
        description="Processes beside the function's own running the local reviewer's bandit"
        " and taint while several chunks are reviewed at once (0: this process only).",
    )
    max_chunks_per_request: int = Field(
        50, ge=1, le=1000, description="Chunks one /review may carry (422 above)."
    )
    max_chunk_bytes: int = Field(512 * KIB, ge=1, description="Largest chunk content or diff.")
    member_max_review_bytes: int = Field(
        256 * KIB,
        ge=1,
        description="Content a member's own POST /review may carry in all (413 above);"
        " the worker's internal calls are bounded per chunk only.",
    )
    max_request_bytes: int = Field(
        32 * 1024 * KIB, ge=1, description="Body limit of POST /review (50 chunks at the cap)."
    )
    quota_direct: bool = Field(
        True,
        description="Reserve and commit in Redis with provider-service's published rules and"
        " scripts (same Redis and prefix) instead of calling quotas each time.",
    )
    quota_rules_cache_seconds: float = Field(
        5.0, ge=0, description="How often the published quota rules are read again."
    )
    quota_rules_max_age_seconds: float = Field(
        30.0,
        gt=0,
        description="Older published rules are not used: quotas answers (and republishes).",
    )
    reservation_ttl_seconds: int = Field(
        120, gt=0, le=3600, description="A direct reservation not committed by then expires."
    )
    chat_default_max_tokens: int = Field(
        1024, ge=1, description="Output tokens reserved for a chat call that sets no maximum."
    )
    chat_max_output_tokens: int = Field(
        32768, ge=1, description="Largest max_tokens a chat call may ask for (400 above)."
    )


settings = config.loader(OrchestratorConfig)
