"""settings declares analysis-service's configuration (the shared variables plus its own)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared import access, config

MiB = 1024 * 1024


class AnalysisConfig(access.AccessConfig):
    database_url: SecretStr = Field(description="PostgreSQL connection URL.")
    redis_url: SecretStr = Field(description="Redis connection URL (idempotency keys).")
    project_files_url: str = Field(
        "http://127.0.0.1:8022", description="project-files: snapshot manifests and blobs."
    )
    orchestrator_url: str = Field("http://127.0.0.1:8041", description="ai-orchestrator.")
    versions_url: str = Field("http://127.0.0.1:8051", description="versions (/resolve).")
    ab_tests_url: str = Field("http://127.0.0.1:8061", description="ab-tests (/assign).")
    default_experiment: str = Field("default", description="Experiment whose alias is used.")
    default_alias: str = Field("production", description="Alias used when no config is given.")
    worker_concurrency: int = Field(4, ge=1, le=64, description="Chunks reviewed at once.")
    analysis_timeout_seconds: float = Field(
        900.0, gt=0, description="Per-job limit from its first claim; past it the job fails."
    )
    worker_lease_seconds: float = Field(
        60.0, gt=0, description="Heartbeat age after which a running job counts as abandoned."
    )
    max_diff_bytes: int = Field(2 * MiB, gt=0, description="Largest diff accepted (413 above).")
    file_max_bytes: int = Field(
        512 * 1024, gt=0, description="Snapshot files above this are skipped (too_large)."
    )
    max_files: int = Field(5000, gt=0, description="Files of one analysis; later ones skipped.")
    review_context_lines: int = Field(3, ge=0, le=50, description="Context around diff changes.")
    orchestrator_timeout_seconds: float = Field(
        120.0, gt=0, description="Time limit of one /review call."
    )
    orchestrator_retries: int = Field(
        3, ge=0, le=10, description="Retries of a 503 from the orchestrator before giving up."
    )
    max_findings: int = Field(10_000, gt=0, description="Findings kept per analysis.")
    max_analyses_in_flight_per_user: int = Field(
        5, gt=0, description="Queued or running analyses a member may have (429 above)."
    )


settings = config.loader(AnalysisConfig)
