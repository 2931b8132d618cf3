"""context holds ai-orchestrator's process-wide resources and builds its function."""

from __future__ import annotations

from pathlib import Path

from functions.ai_orchestrator.settings import OrchestratorConfig, settings
from shared import auth, cache, db, service, service_token
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)
platform_token = service_token.ServiceToken(settings)


def create(name: str, router: Router) -> Function:
    """The orchestrator function: migrations run at start-up, pools close on SIGTERM."""
    return service.function(
        name,
        router,
        settings=OrchestratorConfig,
        database=database,
        redis=redis,
        migrations_dir=Path(__file__).parent / "migrations",
        verifier=verifier,
    )
