"""context holds comparison-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.comparison_service.settings import ComparisonConfig, settings
from shared import auth, cache, clients, db, migrations
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)


def create(name: str, router: Router) -> Function:
    return Function(
        name,
        router,
        settings=ComparisonConfig,
        checks={"database": database.check, "redis": redis.check},
        startup=[migrations.startup_hook(database, Path(__file__).parent / "migrations")],
        shutdown=[database.close, redis.close, clients.close],
        cache=redis,
    )
