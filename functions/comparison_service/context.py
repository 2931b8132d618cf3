"""context holds comparison-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.comparison_service.settings import ComparisonConfig, settings
from shared import auth, cache, db, service
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)


def create(name: str, router: Router) -> Function:
    return service.function(
        name,
        router,
        settings=ComparisonConfig,
        database=database,
        redis=redis,
        migrations_dir=Path(__file__).parent / "migrations",
        verifier=verifier,
    )
