"""context holds ai-orchestrator's process-wide resources and builds its function."""

from __future__ import annotations

from pathlib import Path

from functions.ai_orchestrator.settings import OrchestratorConfig, settings
from shared import auth, cache, clients, db, migrations, service_token
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)
platform_token = service_token.ServiceToken(settings)


def create(name: str, router: Router) -> Function:
    """The orchestrator function: migrations run at start-up, pools close on SIGTERM."""
    return Function(
        name,
        router,
        settings=OrchestratorConfig,
        checks={"database": database.check, "redis": redis.check},
        startup=[migrations.startup_hook(database, Path(__file__).parent / "migrations")],
        shutdown=[database.close, redis.close, clients.close],
        cache=redis,
    )
